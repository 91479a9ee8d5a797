import type { ChatMessage, Direction, QuotedMessage, Reaction, ReactionFrom, Referral, ReferredProduct } from "../api/contract";
import { localize } from "../strings/strings";
import { reactionSide } from "./reactions";

/**
 * The words a message bubble uses, in one place (the components take them from here): the message's
 * context (edited, deleted, a reply, reactions, the ad the customer came from, a product) and the
 * system lines.
 */
export const BUBBLE_WORDING = {
  edited: "edited",
  editedTitle: "The sender edited this message",
  deleted: "This message was deleted",
  quotedDeleted: "Deleted message",
  /** Who wrote a message, as a quote or a reaction names them. */
  author: { inbound: "Customer", outbound: "You" } satisfies Record<Direction, string>,
  reactedBy: { customer: "the customer", business: "you" } satisfies Record<ReactionFrom, string>,
  reactions: "Reactions",
  fromAd: "From ad",
  fromPost: "From post",
  openAd: "Open the ad",
  openPost: "Open the post",
  aboutProduct: (productRetailerId: string): string => `About product ${productRetailerId}`,
  aboutSomeProduct: "About a product from the catalogue",
  system: "WhatsApp system message",
} as const;

/** What a bubble shows, decided from the message alone. */
export type BubbleContent =
  | { type: "text"; text: string }
  | { type: "image"; url: string; alt: string; caption?: string }
  | { type: "download"; url: string; label: string; caption?: string }
  | { type: "media-pending"; label: string; caption?: string }
  | { type: "media-unavailable"; label: string; caption?: string }
  | { type: "note"; text: string }
  /** Deleted (revoked): a placeholder, and nothing of what the message said. */
  | { type: "deleted"; text: string };

const MEDIA_KINDS = new Set(["image", "sticker", "audio", "video", "document"]);
const INLINE_KINDS = new Set(["image", "sticker"]);

function mediaLabel(message: ChatMessage): string {
  const filename = message.media?.filename;
  switch (message.kind) {
    case "document":
      return filename ?? "Document";
    case "audio":
      return message.media?.voice ? "Voice message" : (filename ?? "Audio");
    case "video":
      return filename ?? "Video";
    case "sticker":
      return "Sticker";
    default:
      return filename ?? "Image";
  }
}

function caption(message: ChatMessage): string | undefined {
  return message.caption ?? undefined;
}

function structuredText(message: ChatMessage): BubbleContent {
  const text = message.text?.trim();
  switch (message.kind) {
    case "reaction":
      return { type: "note", text: text ? `Reacted ${text}` : "Removed a reaction" };
    case "location":
      return { type: "text", text: text ? `Location: ${text}` : "Shared a location" };
    case "contacts":
      return { type: "text", text: text ? `Contact: ${text}` : "Shared a contact" };
    case "system":
      return { type: "note", text: text || BUBBLE_WORDING.system };
    case "unsupported":
      return { type: "note", text: "This message type can't be shown here. Open WhatsApp to see it." };
    default:
      return text ? { type: "text", text } : { type: "note", text: `(${message.kind} message)` };
  }
}

export function bubbleContent(message: ChatMessage): BubbleContent {
  if (message.deleted) return { type: "deleted", text: BUBBLE_WORDING.deleted };
  if (message.kind === "template") {
    // The rendered text; a photo header shows above it once its file is stored.
    const text = message.text?.trim() ? message.text : kindLabel("template");
    const url = message.media?.url;
    return url && message.media?.mimeType?.startsWith("image/") ? { type: "image", url, alt: text, caption: text } : { type: "text", text };
  }
  if (!MEDIA_KINDS.has(message.kind)) {
    return message.kind === "text" ? { type: "text", text: message.text ?? "" } : structuredText(message);
  }
  const label = mediaLabel(message);
  const media = message.media;
  if (media?.status === "unavailable") {
    return { type: "media-unavailable", label, caption: caption(message) };
  }
  if (!media?.url) {
    // A customer's file is copied from Meta in the background; the next poll brings its URL.
    return { type: "media-pending", label, caption: caption(message) };
  }
  if (INLINE_KINDS.has(message.kind)) {
    return { type: "image", url: media.url, alt: message.caption ?? label, caption: caption(message) };
  }
  return { type: "download", url: media.url, label, caption: caption(message) };
}

/** A WhatsApp system line (the customer changed their number, a security code changed, …): shown
 * centred across the chat, not as anyone's bubble. */
export function isSystemLine(message: ChatMessage): boolean {
  return message.kind === "system";
}

/** Whether the small "edited" label shows beside the time (a deleted message says nothing more). */
export function showsEdited(message: ChatMessage): boolean {
  return message.edited === true && !message.deleted;
}

/** At most `max` characters, cut at a word where one is near, with "…". */
export function shorten(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  if (flat.length <= max) return flat;
  const room = flat.slice(0, max);
  const space = room.lastIndexOf(" ");
  return `${(space > max / 2 ? room.slice(0, space) : room.slice(0, max - 1)).trimEnd()}…`;
}

/** "Photo", "Document": what a message without text is, as a quote names it. */
const KIND_LABEL: Record<string, string> = {
  image: "Photo",
  video: "Video",
  audio: "Audio",
  document: "Document",
  sticker: "Sticker",
  location: "Location",
  contacts: "Contact",
  order: "Order",
  interactive: "Message",
  button: "Message",
  text: "Message",
  template: "Template",
};

const KIND_ICON: Record<string, string> = { image: "📷", video: "🎥", audio: "🎵", document: "📄", sticker: "🏷️", location: "📍", contacts: "👤", order: "🛒" };

export function kindLabel(kind: string): string {
  return KIND_LABEL[kind] ?? "Message";
}

const QUOTE_MAX = 140;

/** The quoted block at the top of a reply. */
export interface QuotedSnippet {
  /** The quoted message's id: where a click on the block goes. */
  id: string;
  direction: Direction;
  /** "Customer" or "You". */
  author: string;
  /** An emoji for a file or a location (decoration; screen readers get `text` only). */
  icon?: string;
  text: string;
  deleted: boolean;
  /** What a screen reader says for the block. */
  label: string;
}

/**
 * The quoted message as the reply shows it: its text (or caption), else what kind it is, or that it
 * was deleted. `loaded` is the quoted message itself when the panel holds it: it may have been deleted
 * since the reply's copy was read.
 */
export function quotedSnippet(quoted: QuotedMessage, loaded?: ChatMessage): QuotedSnippet {
  const author = BUBBLE_WORDING.author[quoted.direction] ?? BUBBLE_WORDING.author.inbound;
  const deleted = quoted.deleted === true || loaded?.deleted === true;
  const said = quoted.text?.trim();
  const text = deleted ? BUBBLE_WORDING.quotedDeleted : said ? shorten(said, QUOTE_MAX) : kindLabel(quoted.kind);
  const icon = deleted ? "⊘" : KIND_ICON[quoted.kind];
  const whose = quoted.direction === "outbound" ? "your message" : "the customer's message";
  return { id: quoted.id, direction: quoted.direction, author, icon, text, deleted, label: `Reply to ${whose}: ${text}` };
}

/** One chip under a bubble: an emoji, how many gave it, and who, in words. */
export interface ReactionChip {
  emoji: string;
  count: number;
  /** "👍 from the customer", "❤️ 2 reactions, from the customer and you". */
  label: string;
}

/** The reactions grouped by emoji, in the order they were first given; a deleted message has none. */
export function reactionChips(message: ChatMessage): ReactionChip[] {
  if (message.deleted) return [];
  const groups = new Map<string, Reaction[]>();
  const byTime = [...(message.reactions ?? [])].filter((reaction) => reaction.emoji?.trim()).sort((a, b) => (Date.parse(a.at) || 0) - (Date.parse(b.at) || 0));
  for (const reaction of byTime) {
    const emoji = reaction.emoji.trim();
    groups.set(emoji, [...(groups.get(emoji) ?? []), reaction]);
  }
  return [...groups].map(([emoji, given]) => {
    const who = [...new Set(given.map((reaction) => BUBBLE_WORDING.reactedBy[reactionSide(reaction)]))].join(" and ");
    const label = given.length === 1 ? `${emoji} from ${who}` : `${emoji} ${given.length} reactions, from ${who}`;
    return { emoji, count: given.length, label };
  });
}

/** A link the panel may open: http(s) only, so an ad's URL can never run script (`javascript:`). */
export function safeLink(url: string | null | undefined): string | undefined {
  if (!url?.trim()) return undefined;
  try {
    const parsed = new URL(url.trim());
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}

const AD_BODY_MAX = 120;
const AD_HEADLINE_MAX = 80;

/** The compact card for the click-to-WhatsApp ad (or post) the customer came from. */
export interface ReferralCard {
  /** "From ad: Spring sale", or "From ad" when the ad has no headline. */
  title: string;
  body?: string;
  link?: { href: string; text: string };
}

export function referralCard(message: ChatMessage): ReferralCard | undefined {
  const referral: Referral | null | undefined = message.referral;
  if (!referral || message.deleted) return undefined;
  const post = referral.sourceType === "post";
  const from = post ? BUBBLE_WORDING.fromPost : BUBBLE_WORDING.fromAd;
  const headline = referral.headline?.trim();
  const body = referral.body?.trim();
  const href = safeLink(referral.sourceUrl);
  return {
    title: headline ? `${from}: ${shorten(headline, AD_HEADLINE_MAX)}` : from,
    body: body ? shorten(body, AD_BODY_MAX) : undefined,
    link: href ? { href, text: post ? BUBBLE_WORDING.openPost : BUBBLE_WORDING.openAd } : undefined,
  };
}

/** "About product SKU-123": the catalogue product the customer asked about. */
export function referredProductLine(message: ChatMessage): string | undefined {
  const product: ReferredProduct | null | undefined = message.referredProduct;
  if (!product || message.deleted) return undefined;
  const id = product.productRetailerId?.trim();
  return id ? BUBBLE_WORDING.aboutProduct(id) : BUBBLE_WORDING.aboutSomeProduct;
}

/** "Template: order_update": the small label on a message sent from an approved template. */
export function templateLabel(message: ChatMessage): string | undefined {
  if (message.deleted) return undefined;
  const name = message.template?.name?.trim();
  if (name) return localize("Template_SentLabel", name);
  return message.kind === "template" ? kindLabel("template") : undefined;
}

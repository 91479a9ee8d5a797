import type { ChatMessage, Direction, QuotedMessage, Reaction, ReactionFrom, Referral, ReferredProduct } from "../api/contract";
import { type StringKey, localize } from "../strings/strings";
import { reactionSide } from "./reactions";

/** Who wrote a message, as a quote names them. */
const AUTHOR: Record<Direction, StringKey> = { inbound: "Quote_Customer", outbound: "Quote_You" };
/** Who gave a reaction, as a chip's label names them. */
const REACTED_BY: Record<ReactionFrom, StringKey> = { customer: "Chip_ByCustomer", business: "Chip_ByYou" };

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
      return filename ?? localize("Kind_document");
    case "audio":
      return message.media?.voice ? localize("Bubble_VoiceMessage") : (filename ?? localize("Kind_audio"));
    case "video":
      return filename ?? localize("Kind_video");
    case "sticker":
      return localize("Kind_sticker");
    default:
      return filename ?? localize("File_image");
  }
}

function caption(message: ChatMessage): string | undefined {
  return message.caption ?? undefined;
}

function structuredText(message: ChatMessage): BubbleContent {
  const text = message.text?.trim();
  switch (message.kind) {
    case "reaction":
      return { type: "note", text: text ? localize("Bubble_Reacted", text) : localize("Bubble_ReactionRemoved") };
    case "location":
      return { type: "text", text: text ? localize("Bubble_Location", text) : localize("Bubble_SharedLocation") };
    case "contacts":
      return { type: "text", text: text ? localize("Bubble_Contact", text) : localize("Bubble_SharedContact") };
    case "system":
      return { type: "note", text: text || localize("Bubble_System") };
    case "unsupported":
      return { type: "note", text: localize("Bubble_Unsupported") };
    default:
      return text ? { type: "text", text } : { type: "note", text: localize("Bubble_OtherKind", message.kind) };
  }
}

export function bubbleContent(message: ChatMessage): BubbleContent {
  if (message.deleted) return { type: "deleted", text: localize("Bubble_Deleted") };
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
const KIND_LABEL: Record<string, StringKey> = {
  image: "Kind_image",
  video: "Kind_video",
  audio: "Kind_audio",
  document: "Kind_document",
  sticker: "Kind_sticker",
  location: "Kind_location",
  contacts: "Kind_contacts",
  order: "Kind_order",
  template: "Kind_template",
};

const KIND_ICON: Record<string, string> = { image: "📷", video: "🎥", audio: "🎵", document: "📄", sticker: "🏷️", location: "📍", contacts: "👤", order: "🛒" };

export function kindLabel(kind: string): string {
  return localize(KIND_LABEL[kind] ?? "Kind_message");
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
  const author = localize(AUTHOR[quoted.direction] ?? AUTHOR.inbound);
  const deleted = quoted.deleted === true || loaded?.deleted === true;
  const said = quoted.text?.trim();
  const text = deleted ? localize("Quote_Deleted") : said ? shorten(said, QUOTE_MAX) : kindLabel(quoted.kind);
  const icon = deleted ? "⊘" : KIND_ICON[quoted.kind];
  const label = localize(quoted.direction === "outbound" ? "Quote_ReplyToYou" : "Quote_ReplyToCustomer", text);
  return { id: quoted.id, direction: quoted.direction, author, icon, text, deleted, label };
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
    const [first = "", second] = [...new Set(given.map((reaction) => localize(REACTED_BY[reactionSide(reaction)])))];
    const who = second === undefined ? first : localize("Chip_ByBoth", first, second);
    const label = given.length === 1 ? localize("Chip_One", emoji, who) : localize("Chip_Many", emoji, given.length, who);
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
  const headline = referral.headline?.trim();
  const body = referral.body?.trim();
  const href = safeLink(referral.sourceUrl);
  return {
    title: headline ? localize(post ? "Bubble_FromPostTitle" : "Bubble_FromAdTitle", shorten(headline, AD_HEADLINE_MAX)) : localize(post ? "Bubble_FromPost" : "Bubble_FromAd"),
    body: body ? shorten(body, AD_BODY_MAX) : undefined,
    link: href ? { href, text: localize(post ? "Bubble_OpenPost" : "Bubble_OpenAd") } : undefined,
  };
}

/** "About product SKU-123": the catalogue product the customer asked about. */
export function referredProductLine(message: ChatMessage): string | undefined {
  const product: ReferredProduct | null | undefined = message.referredProduct;
  if (!product || message.deleted) return undefined;
  const id = product.productRetailerId?.trim();
  return id ? localize("Bubble_AboutProduct", id) : localize("Bubble_AboutSomeProduct");
}

/** "Template: order_update": the small label on a message sent from an approved template. */
export function templateLabel(message: ChatMessage): string | undefined {
  if (message.deleted) return undefined;
  const name = message.template?.name?.trim();
  if (name) return localize("Template_SentLabel", name);
  return message.kind === "template" ? kindLabel("template") : undefined;
}

import type { ChatMessage } from "../api/contract";

/** What a bubble shows, decided from the message alone. */
export type BubbleContent =
  | { type: "text"; text: string }
  | { type: "image"; url: string; alt: string; caption?: string }
  | { type: "download"; url: string; label: string; caption?: string }
  | { type: "media-pending"; label: string; caption?: string }
  | { type: "media-unavailable"; label: string; caption?: string }
  | { type: "note"; text: string };

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
      return { type: "note", text: text ?? "WhatsApp system message" };
    case "unsupported":
      return { type: "note", text: "This message type can't be shown here. Open WhatsApp to see it." };
    default:
      return text ? { type: "text", text } : { type: "note", text: `(${message.kind} message)` };
  }
}

export function bubbleContent(message: ChatMessage): BubbleContent {
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

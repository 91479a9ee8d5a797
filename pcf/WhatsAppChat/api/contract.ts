/**
 * The HTTP API's shapes, as `shared/api/openapi.json` documents them (the D365-facing routes only).
 * Optional fields are omitted or null in the answers; both are allowed here.
 */

export type Direction = "inbound" | "outbound";

export type MessageStatus = "received" | "accepted" | "sent" | "delivered" | "read" | "played" | "failed";

/** What Send accepts as `type`. */
export type SendType = "text" | "image" | "document" | "audio" | "video";

/** What an upload can turn out to be (the type is sniffed from the bytes). */
export type UploadKind = "image" | "video" | "audio" | "document" | "sticker";

export interface SessionStatus {
  active: boolean;
  expiresAt: string | null;
  lastInboundAt: string | null;
}

export interface MediaInfo {
  metaMediaId?: string | null;
  mimeType?: string | null;
  sha256?: string | null;
  size?: number | null;
  filename?: string | null;
  voice?: boolean | null;
  animated?: boolean | null;
  blobName?: string | null;
  /** A fresh read URL for a stored file (a new one on every history read). */
  url?: string | null;
  /** "stored", or "unavailable" when Meta no longer has the customer's file. */
  status?: string | null;
}

export interface MessageError {
  code?: number | null;
  title?: string | null;
  detail?: string | null;
  retryable?: boolean | null;
}

export interface Regarding {
  entity: "contact" | "lead";
  id: string;
}

export interface ChatMessage {
  id: string;
  wamid?: string | null;
  phoneNumberId: string;
  customerId: string;
  direction: Direction;
  /** text, image, audio, video, document, sticker, location, contacts, interactive, button, reaction, order, system or unsupported */
  kind: string;
  text?: string | null;
  caption?: string | null;
  media?: MediaInfo | null;
  context?: string | null;
  forwarded?: boolean | null;
  details?: Record<string, unknown> | null;
  /** ISO 8601, one-second resolution. */
  timestamp: string;
  status: MessageStatus;
  statusTimes: Record<string, string>;
  error?: MessageError | null;
  sentBy?: string | null;
  regarding?: Regarding | null;
}

export interface MessagesPage {
  /** Newest first. */
  messages: ChatMessage[];
  /** Pass as `before` for the next (older) page; null on the last page. */
  next: string | null;
  /** Pass as `changedSince` to get only what was written or changed since this answer. */
  pollCursor?: string;
}

export interface SendMessageCommand {
  type: SendType;
  text?: string;
  mediaUrl?: string;
  caption?: string;
  filename?: string;
  clientMessageId?: string;
  regarding?: Regarding;
}

export interface UploadResult {
  mediaUrl: string;
  blobName: string;
  mimeType: string;
  kind: UploadKind;
  size: number;
  sha256: string;
  filename: string;
}

/** Every error body: `{"error": {"code", "message"}}`; failed sends also carry the message as stored. */
export interface ErrorBody {
  error: { code: string; message: string };
  message?: ChatMessage;
}

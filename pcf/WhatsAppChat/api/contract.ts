/**
 * The HTTP API's shapes, as `shared/api/openapi.json` documents them (the D365-facing routes only).
 * Optional fields are omitted or null in the answers; both are allowed here.
 */

export type Direction = "inbound" | "outbound";

export type MessageStatus = "received" | "accepted" | "sent" | "delivered" | "read" | "played" | "failed";

/** What Send accepts as `type`: a message the agent writes, an approved template, or a reaction. */
export type SendType = "text" | "image" | "document" | "audio" | "video" | "template" | "reaction";

/** The composer's media types. */
export type MediaSendType = "image" | "document" | "audio" | "video";

/** What an upload can turn out to be (the type is sniffed from the bytes). */
export type UploadKind = "image" | "video" | "audio" | "document" | "sticker";

export interface SessionStatus {
  active: boolean;
  expiresAt: string | null;
  lastInboundAt: string | null;
  /** The customer asked not to get marketing messages (templates); replies are not affected. Absent when false. */
  marketingOptOut?: boolean | null;
  /** When the agent side last marked the customer's messages read (ISO 8601): newer inbound messages are unread. */
  agentReadAt?: string | null;
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

/** Who reacted: the customer, or the business (an agent, or the WhatsApp Business app). */
export type ReactionFrom = "customer" | "business";

/** One emoji reaction on a message; each side has at most one per message. */
export interface Reaction {
  emoji: string;
  /** Whose it is; an answer may say it as `direction` instead (outbound: the business's). */
  from?: ReactionFrom | null;
  direction?: Direction | null;
  /** ISO 8601. */
  at: string;
}

/** The message this one replies to, as it is now (so a deleted one says so). */
export interface QuotedMessage {
  /** The quoted message's `id` in this history (the panel scrolls to it when it is loaded). */
  id: string;
  wamid?: string | null;
  direction: Direction;
  /** The quoted message's kind (text, image, document, …), for a label when it has no text. */
  kind: string;
  /** Its text or caption; absent for media without a caption and for a deleted message. */
  text?: string | null;
  /** The quoted message was deleted (revoked). The panel also knows it when that message is loaded. */
  deleted?: boolean | null;
}

/** A click-to-WhatsApp ad (or post) the customer came from: Meta's `referral`, in camelCase. */
export interface Referral {
  /** "ad" or "post". */
  sourceType?: string | null;
  sourceUrl?: string | null;
  sourceId?: string | null;
  headline?: string | null;
  body?: string | null;
  /** "image" or "video". */
  mediaType?: string | null;
  imageUrl?: string | null;
  videoUrl?: string | null;
  thumbnailUrl?: string | null;
  /** The click id, for ads reporting; never shown. */
  ctwaClid?: string | null;
}

/** A catalogue product the customer asked about (they replied from a product message). */
export interface ReferredProduct {
  catalogId?: string | null;
  productRetailerId?: string | null;
}

/** The D365 record a conversation is about: the record the panel sits on. */
export interface Regarding {
  entity: "contact" | "lead";
  /** The record's GUID, lower case, without braces. */
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
  // Context (absent when empty):
  /** The customer (or the business) edited this message; `text`/`caption` are the edited ones. */
  edited?: boolean | null;
  /** Deleted (revoked): the message has no text, caption or media any more. */
  deleted?: boolean | null;
  reactions?: Reaction[] | null;
  /** The message this one replies to (`context` is its wamid). */
  quoted?: QuotedMessage | null;
  /** The customer came from a click-to-WhatsApp ad. */
  referral?: Referral | null;
  referredProduct?: ReferredProduct | null;
  /** A template message (kind "template"): which one; `text` is what the customer got, rendered. */
  template?: SentTemplate | null;
}

/** Which approved template a message was sent from. */
export interface SentTemplate {
  name: string;
  language: string;
  category?: string | null;
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
  template?: TemplateSend;
  reaction?: ReactionSend;
  clientMessageId?: string;
  regarding?: Regarding;
}

// Templates (GET /api/templates, and Send with `type: "template"`).

export type TemplateCategory = "UTILITY" | "MARKETING" | "AUTHENTICATION";
export type TemplateParameterType = "text" | "image" | "video" | "document";

/** One value a template needs: a `{{first_name}}` (NAMED) or `{{1}}` (POSITIONAL) in its header, body or a button, or a media header. */
export interface TemplateParameter {
  component: "header" | "body" | "button";
  /** NAMED templates: the parameter's name. */
  name: string | null;
  /** POSITIONAL templates: 1-based, as in `{{1}}`. */
  index: number | null;
  /** Button parameters: which button (0-based, as Meta counts them). */
  buttonIndex: number | null;
  type: TemplateParameterType;
  /** The example Meta approved the template with. */
  example: string | null;
}

/** A part of a template as Meta returns it (only what the panel reads; the rest passes through). */
export interface TemplateComponent {
  type: string;
  format?: string;
  text?: string;
  buttons?: { type: string; text?: string; url?: string; phone_number?: string; [other: string]: unknown }[];
  [other: string]: unknown;
}

export interface MessageTemplate {
  name: string;
  language: string;
  category: TemplateCategory | (string & Record<never, never>);
  status: string;
  parameterFormat: "POSITIONAL" | "NAMED";
  components: TemplateComponent[];
  parameters: TemplateParameter[];
  /** The header, body and footer text joined by a blank line, with their `{{…}}` placeholders. */
  preview: string;
}

export interface TemplatesAnswer {
  templates: MessageTemplate[];
}

/** A header's, or the body's, values: in order (POSITIONAL) or by name (NAMED); a media header takes one of our uploads. */
export type TemplateValues = string[] | Record<string, string> | [{ mediaUrl: string }];

export interface TemplateSend {
  name: string;
  language: string;
  parameters: {
    header?: TemplateValues;
    body?: TemplateValues;
    /** A button's dynamic part (a URL's suffix, a code to copy). */
    buttons?: { index: number; value: string }[];
  };
}

/** The agent's reaction to a message of this conversation; `emoji: ""` takes it away. */
export interface ReactionSend {
  messageId: string;
  emoji: string;
}

/** POST .../read: marks the newest inbound message read at WhatsApp (blue ticks for the customer). */
export interface ReadAnswer {
  sent: boolean;
  messageId: string | null;
  agentReadAt: string | null;
}

/** POST .../typing: WhatsApp shows the customer "typing…" (at most one per 20 s). */
export interface TypingAnswer {
  sent: boolean;
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

/** The `code` of the API's error answers to the panel (openapi.json's enumeration). */
export type ApiErrorCode =
  | "invalid_request"
  | "session_inactive"
  | "rejected_by_whatsapp"
  | "rate_limited"
  | "whatsapp_auth_failed"
  | "whatsapp_unavailable"
  | "whatsapp_no_answer"
  | "empty_file"
  | "file_too_large"
  | "unsupported_media_type"
  | "store_unavailable"
  | "unauthenticated"
  | "forbidden"
  | "auth_not_configured"
  | "auth_unavailable"
  | "not_found"
  // Record-level authorisation (issue 10): every agent route takes `regarding`.
  /** 403: the agent may not read the record in Dynamics 365, the customer's number is not one of the
   * record's phone numbers, or this deployment does not serve the business number; `message` says which. */
  | "not_allowed"
  /** 503: the app's secrets are not set up (an operator's job); asking again later is fine. */
  | "not_configured"
  /** 503: Dynamics 365 could not be asked whether the agent may see the record; transient. */
  | "access_check_unavailable"
  /** 409: this clientMessageId was sent before with a different body. */
  | "client_message_id_reused"
  // Templates (issue 14).
  /** 409: a marketing template to a customer who asked WhatsApp to stop marketing messages. */
  | "marketing_opt_out"
  /** 400: no approved template of that name and language for the business number. */
  | "template_not_found"
  /** 502: Meta did not give the templates and none are cached. */
  | "meta_unavailable";

/** Every error body: `{"error": {"code", "message"}}`; failed sends also carry the message as stored.
 * `code` is one of {@link ApiErrorCode}, or one added later (the panel words unknown codes generically). */
export interface ErrorBody {
  error: { code: ApiErrorCode | (string & Record<never, never>); message: string };
  message?: ChatMessage;
}

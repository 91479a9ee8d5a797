import { ApiError } from "../api/apiError";
import type { ChatMessage, MediaSendType, Regarding, SendMessageCommand, UploadResult } from "../api/contract";
import { localize } from "../strings/strings";

export type MediaType = MediaSendType;

/** What the agent has typed and attached: kept until WhatsApp accepts it. */
export interface Draft {
  /** The message, or the media's caption. */
  text: string;
  /** The media URL box: a link typed by the agent, or filled by an upload. */
  mediaUrl: string;
  mediaType: MediaType;
  /** The uploaded file's name; sent for documents only. */
  filename?: string;
  /** Whether the agent opened the "use text URL" box. */
  urlBoxOpen: boolean;
  /**
   * The clientMessageId of an attempt whose outcome is not final (no answer, a network error,
   * throttling): sending the same draft again reuses it, so the API sends at most once.
   */
  attemptId?: string;
  /**
   * What that attempt sent ({@link attemptKey}): the id goes again only with exactly this message, for
   * the API answers an id sent before with another body with 409 `client_message_id_reused`.
   */
  attemptFor?: string;
}

export const EMPTY_DRAFT: Draft = { text: "", mediaUrl: "", mediaType: "image", urlBoxOpen: false };

export const MAX_TEXT = 4096;
export const MAX_CAPTION = 1024;

export function hasMedia(draft: Draft): boolean {
  return draft.mediaUrl.trim() !== "";
}

/** Audio messages take no caption (WhatsApp's rule). */
export function takesCaption(draft: Draft): boolean {
  return !hasMedia(draft) || draft.mediaType !== "audio";
}

const EXTENSION_TYPES: Record<string, MediaType> = {
  jpg: "image",
  jpeg: "image",
  png: "image",
  mp4: "video",
  "3gp": "video",
  aac: "audio",
  amr: "audio",
  mp3: "audio",
  m4a: "audio",
  ogg: "audio",
  opus: "audio",
};

/** The likely send type of a typed link, from its file extension; anything else goes as a document. */
export function guessMediaType(url: string): MediaType {
  let path = url;
  try {
    path = new URL(url).pathname;
  } catch {
    // not a full URL yet: look at what was typed
  }
  const extension = path.split("/").pop()?.split(".").pop()?.toLowerCase() ?? "";
  return EXTENSION_TYPES[extension] ?? "document";
}

type DraftEdit = Partial<Pick<Draft, "text" | "mediaUrl" | "mediaType" | "urlBoxOpen">>;

/** A new content is a new message: the unfinished attempt's id goes with the old content. */
export function editDraft(draft: Draft, edit: DraftEdit): Draft {
  const next: Draft = { ...draft, ...edit };
  if (edit.mediaUrl !== undefined && edit.mediaUrl !== draft.mediaUrl) {
    // A typed link: guess its type, and forget the name of a file uploaded before.
    next.mediaType = edit.mediaType ?? guessMediaType(edit.mediaUrl);
    next.filename = undefined;
  }
  const contentChanged =
    next.text !== draft.text || next.mediaUrl !== draft.mediaUrl || next.mediaType !== draft.mediaType;
  return contentChanged ? { ...next, attemptId: undefined, attemptFor: undefined } : next;
}

/** Drops the attachment and keeps the text. */
export function removeMedia(draft: Draft): Draft {
  return { ...editDraft(draft, { mediaUrl: "" }), urlBoxOpen: false };
}

/** Why an uploaded file cannot go into the draft: Send takes no stickers, though uploads accept them. */
export function uploadProblem(upload: UploadResult): ApiError | undefined {
  // The file's name is the detail: the problem's wording says what it is in the agent's language.
  return upload.kind === "sticker" ? ApiError.client("sticker_not_sendable", upload.filename) : undefined;
}

/** An upload Send can carry (not a sticker). */
export type SendableUpload = UploadResult & { kind: MediaType };

/** The draft with an upload's URL in the media URL box; the send type comes from what the file is. */
export function draftWithUpload(draft: Draft, upload: SendableUpload): Draft {
  return { ...draft, mediaUrl: upload.mediaUrl, mediaType: upload.kind, filename: upload.filename, urlBoxOpen: true, attemptId: undefined, attemptFor: undefined };
}

export function isSendable(upload: UploadResult): upload is SendableUpload {
  return upload.kind !== "sticker";
}

/** Why the draft cannot be sent as it is, or undefined when it can. */
export function draftProblem(draft: Draft): string | undefined {
  const text = draft.text.trim();
  if (!hasMedia(draft)) {
    if (!text) return localize("Draft_Empty");
    if (draft.text.length > MAX_TEXT) return localize("Draft_TooLong", MAX_TEXT, draft.text.length);
    return undefined;
  }
  const url = draft.mediaUrl.trim();
  if (!/^https?:\/\/[^\s/]+/i.test(url)) return localize("Draft_MediaUrl");
  if (!takesCaption(draft) && text) return localize("Draft_AudioCaption");
  if (draft.text.length > MAX_CAPTION) return localize("Draft_CaptionTooLong", MAX_CAPTION, draft.text.length);
  return undefined;
}

/** The Send body for this draft and attempt. */
export function sendCommand(draft: Draft, clientMessageId: string, regarding?: Regarding): SendMessageCommand {
  const base = { clientMessageId, ...(regarding ? { regarding } : {}) };
  if (!hasMedia(draft)) return { ...base, type: "text", text: draft.text };
  const caption = draft.text.trim() ? draft.text : undefined;
  return {
    ...base,
    type: draft.mediaType,
    mediaUrl: draft.mediaUrl.trim(),
    ...(caption && takesCaption(draft) ? { caption } : {}),
    ...(draft.mediaType === "document" && draft.filename ? { filename: draft.filename } : {}),
  };
}

/** What a send of this draft carries apart from its id: the customer, and the body as the API gets it. */
export function attemptKey(draft: Draft, customer: string, regarding?: Regarding): string {
  return JSON.stringify({ customer, body: { ...sendCommand(draft, "", regarding), clientMessageId: undefined } });
}

/**
 * The clientMessageId to send the draft with: the unclear attempt's when exactly the same message goes
 * again (so the API answers that attempt instead of sending twice), a new one when anything changed.
 */
export function attemptIdFor(draft: Draft, key: string, newId: () => string): string {
  return draft.attemptId !== undefined && draft.attemptFor === key ? draft.attemptId : newId();
}

/** A clientMessageId in the API's pattern `^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`. */
export function newAttemptId(randomUuid: () => string = () => crypto.randomUUID()): string {
  return `pcf-${randomUuid()}`;
}

// After these, the API may have sent the message or may send it if asked again with the same id: the
// same id makes a second press a replay, never a second message.
const OUTCOME_OPEN = new Set(["whatsapp_no_answer", "timeout", "network_unreachable", "rate_limited", "whatsapp_unavailable", "store_unavailable"]);
// These refuse before the API looks at the message, so nothing is kept under the id: keeping it costs
// nothing, and after an unclear attempt it must stay (that attempt's outcome is still open).
const REFUSED_BEFORE_SENDING = new Set([
  "not_allowed",
  "not_configured",
  "access_check_unavailable",
  "unauthenticated",
  "forbidden",
  "auth_not_configured",
  "auth_unavailable",
]);

/** Whether a failed send's clientMessageId goes again with the same message: while its outcome is open, or nothing was looked at. */
export function keepsAttemptId(error: unknown): boolean {
  const code = error instanceof ApiError ? error.code : "unexpected_answer";
  // After client_message_id_reused the id belongs to an earlier, different message: the next press
  // (the changed message) gets a new one.
  return OUTCOME_OPEN.has(code) || REFUSED_BEFORE_SENDING.has(code);
}

/** The draft after a failed send: the text and attachment stay; the attempt id stays while the outcome is open. */
export function draftAfterFailedSend(draft: Draft, attemptId: string, error: unknown): Draft {
  return keepsAttemptId(error) ? { ...draft, attemptId } : { ...draft, attemptId: undefined, attemptFor: undefined };
}

/**
 * A message WhatsApp did not deliver, back in the composer to send again ("Edit and resend"): its text,
 * or its file and caption. A new draft, so Send gives it a new clientMessageId. Undefined for what the
 * composer cannot send (templates, reactions, stickers).
 */
export function draftToResend(message: ChatMessage): Draft | undefined {
  if (message.direction !== "outbound" || message.status !== "failed" || message.deleted) return undefined;
  if (message.kind === "text") return message.text ? { ...EMPTY_DRAFT, text: message.text } : undefined;
  const kind = message.kind as MediaType;
  if (!(["image", "document", "video", "audio"] as string[]).includes(kind) || !message.media?.url) return undefined;
  return {
    ...EMPTY_DRAFT,
    text: message.caption ?? "",
    mediaUrl: message.media.url,
    mediaType: kind,
    filename: message.media.filename ?? undefined,
    urlBoxOpen: true,
  };
}

import { describe, expect, it } from "vitest";
import { ApiError } from "../../WhatsAppChat/api/apiError";
import type { UploadResult } from "../../WhatsAppChat/api/contract";
import {
  type Draft,
  EMPTY_DRAFT,
  type SendableUpload,
  draftAfterFailedSend,
  draftProblem,
  attemptIdFor,
  attemptKey,
  draftWithUpload,
  editDraft,
  guessMediaType,
  isSendable,
  newAttemptId,
  removeMedia,
  sendCommand,
  uploadProblem,
} from "../../WhatsAppChat/model/draft";

const upload = (overrides: Partial<SendableUpload> = {}): SendableUpload => ({
  mediaUrl: "http://127.0.0.1:10000/devstoreaccount1/media/outbound/2026/03/u/receipt.png?se=x&sig=y",
  blobName: "outbound/2026/03/u/receipt.png",
  mimeType: "image/png",
  kind: "image",
  size: 100,
  sha256: "ab",
  filename: "receipt.png",
  ...overrides,
});

describe("the composer's draft", () => {
  it("sends typed text as a text message with its attempt id", () => {
    const draft = editDraft(EMPTY_DRAFT, { text: "It ships today!" });
    expect(sendCommand(draft, "pcf-1")).toEqual({ type: "text", text: "It ships today!", clientMessageId: "pcf-1" });
  });

  it("says what the record is about, so the API can file it on the timeline", () => {
    const draft = editDraft(EMPTY_DRAFT, { text: "Hi" });
    expect(sendCommand(draft, "pcf-1", { entity: "lead", id: "3f2504e0-4f89-11d3-9a0c-0305e82c3301" })).toMatchObject({
      regarding: { entity: "lead", id: "3f2504e0-4f89-11d3-9a0c-0305e82c3301" },
    });
  });

  it("an upload fills the media URL box and the send type comes from what the file is", () => {
    const draft = draftWithUpload(editDraft(EMPTY_DRAFT, { text: "your receipt" }), upload({ kind: "document", filename: "receipt.pdf" }));
    expect(draft).toMatchObject({ mediaUrl: upload().mediaUrl, mediaType: "document", filename: "receipt.pdf", urlBoxOpen: true, text: "your receipt" });
    expect(sendCommand(draft, "pcf-2")).toEqual({
      type: "document",
      mediaUrl: upload().mediaUrl,
      caption: "your receipt",
      filename: "receipt.pdf",
      clientMessageId: "pcf-2",
    });
  });

  it("sends an image with its caption and without a filename", () => {
    const draft = draftWithUpload(editDraft(EMPTY_DRAFT, { text: "the parcel" }), upload());
    expect(sendCommand(draft, "pcf-3")).toEqual({ type: "image", mediaUrl: upload().mediaUrl, caption: "the parcel", clientMessageId: "pcf-3" });
  });

  it("refuses a sticker upload, which Send cannot carry", () => {
    const sticker: UploadResult = { ...upload(), kind: "sticker", filename: "smile.webp" };
    expect(isSendable(sticker)).toBe(false);
    expect(uploadProblem(sticker)?.code).toBe("sticker_not_sendable");
    expect(uploadProblem(upload())).toBeUndefined();
  });

  it("guesses a typed link's type from its extension", () => {
    expect(guessMediaType("https://cdn.example.com/p/photo.JPG?x=1")).toBe("image");
    expect(guessMediaType("https://cdn.example.com/clip.mp4")).toBe("video");
    expect(guessMediaType("https://cdn.example.com/note.ogg")).toBe("audio");
    expect(guessMediaType("https://cdn.example.com/terms.pdf")).toBe("document");
    expect(guessMediaType("https://cdn.example.com/download")).toBe("document");
    expect(editDraft({ ...EMPTY_DRAFT, urlBoxOpen: true }, { mediaUrl: "https://cdn.example.com/photo.png" }).mediaType).toBe("image");
  });

  it("removing the attachment keeps the text", () => {
    const draft = removeMedia(draftWithUpload(editDraft(EMPTY_DRAFT, { text: "see this" }), upload()));
    expect(draft).toMatchObject({ text: "see this", mediaUrl: "", urlBoxOpen: false, filename: undefined });
  });

  it.each<[string, Partial<Draft>, string | undefined]>([
    ["empty text", { text: "   " }, "Type a message first."],
    ["text", { text: "hello" }, undefined],
    ["too long a text", { text: "x".repeat(4097) }, "A message can be at most 4096 characters (this one has 4097)."],
    ["a link that is not a URL", { mediaUrl: "photo.png" }, "The media URL must start with https:// (or upload a file)."],
    ["an https link without caption", { mediaUrl: "https://cdn.example.com/a.png" }, undefined],
    ["too long a caption", { mediaUrl: "https://cdn.example.com/a.png", text: "y".repeat(1025) }, "A caption can be at most 1024 characters (this one has 1025)."],
    ["audio with a caption", { mediaUrl: "https://cdn.example.com/a.mp3", mediaType: "audio", text: "listen" }, "Audio can't have a caption: send the text as its own message."],
  ])("checks %s before sending", (_, draft, problem) => {
    expect(draftProblem({ ...EMPTY_DRAFT, ...draft })).toBe(problem);
  });
});

describe("one clientMessageId per message", () => {
  it("makes ids the API accepts", () => {
    expect(newAttemptId()).toMatch(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/);
    expect(newAttemptId()).not.toBe(newAttemptId());
  });

  it("keeps the id after a failure whose outcome is open, so pressing Send again cannot send twice", () => {
    const draft = editDraft(EMPTY_DRAFT, { text: "hello" });
    for (const code of ["whatsapp_no_answer", "rate_limited", "whatsapp_unavailable"]) {
      expect(draftAfterFailedSend(draft, "pcf-1", new ApiError(504, code, "")).attemptId).toBe("pcf-1");
    }
    expect(draftAfterFailedSend(draft, "pcf-1", ApiError.client("timeout", "")).attemptId).toBe("pcf-1");
    expect(draftAfterFailedSend(draft, "pcf-1", ApiError.client("network_unreachable", "")).attemptId).toBe("pcf-1");
  });

  it("drops the id after a final refusal: the next press is a new attempt", () => {
    const draft = editDraft(EMPTY_DRAFT, { text: "hello" });
    expect(draftAfterFailedSend(draft, "pcf-1", new ApiError(422, "rejected_by_whatsapp", "")).attemptId).toBeUndefined();
    expect(draftAfterFailedSend(draft, "pcf-1", new ApiError(400, "invalid_request", "")).attemptId).toBeUndefined();
  });

  it("keeps what was typed whatever the failure", () => {
    const draft = { ...editDraft(EMPTY_DRAFT, { text: "hello", mediaUrl: "https://cdn.example.com/a.png" }) };
    const after = draftAfterFailedSend(draft, "pcf-1", new ApiError(422, "rejected_by_whatsapp", ""));
    expect(after.text).toBe("hello");
    expect(after.mediaUrl).toBe("https://cdn.example.com/a.png");
  });

  it("keeps the id after a refusal that came before anything was sent (403, 503): that id's outcome is still open", () => {
    const draft = editDraft(EMPTY_DRAFT, { text: "hello" });
    for (const code of ["not_allowed", "not_configured", "access_check_unavailable", "auth_unavailable"]) {
      expect(draftAfterFailedSend(draft, "pcf-1", new ApiError(503, code, "")).attemptId).toBe("pcf-1");
    }
  });

  it("drops the id after client_message_id_reused: it belongs to an earlier, different message", () => {
    const pending = { ...editDraft(EMPTY_DRAFT, { text: "hello!" }), attemptId: "pcf-1", attemptFor: "k" };
    expect(draftAfterFailedSend(pending, "pcf-1", new ApiError(409, "client_message_id_reused", ""))).toMatchObject({ attemptId: undefined, attemptFor: undefined });
  });

  it("reuses an unclear attempt's id only for exactly the same message, customer and record", () => {
    const contact = { entity: "contact", id: "1b0c7d0e-5f2a-4c51-9f0e-6a3e2f1d2c11" } as const;
    const draft = editDraft(EMPTY_DRAFT, { text: "hello" });
    const key = attemptKey(draft, "15551234567", contact);
    const pending: Draft = { ...draft, attemptId: "pcf-1", attemptFor: key };
    const fresh = (): string => "pcf-new";
    expect(attemptIdFor(pending, key, fresh)).toBe("pcf-1");
    const changed: [string, string][] = [
      ["the text", attemptKey({ ...draft, text: "hello!" }, "15551234567", contact)],
      ["the attachment", attemptKey({ ...draft, mediaUrl: "https://cdn.example.com/a.png" }, "15551234567", contact)],
      ["the customer", attemptKey(draft, "15557654321", contact)],
      ["the record", attemptKey(draft, "15551234567", { entity: "lead", id: contact.id })],
      ["no record", attemptKey(draft, "15551234567")],
    ];
    for (const [what, other] of changed) expect(attemptIdFor(pending, other, fresh), what).toBe("pcf-new");
    expect(attemptIdFor(draft, key, fresh)).toBe("pcf-new"); // no unclear attempt: a new id
    expect(attemptKey({ ...draft, urlBoxOpen: true }, "15551234567", contact)).toBe(key); // what is not sent does not count
  });

  it("editing the message makes it a new message with a new id", () => {
    const pending = { ...editDraft(EMPTY_DRAFT, { text: "hello" }), attemptId: "pcf-1" };
    expect(editDraft(pending, { text: "hello!" }).attemptId).toBeUndefined();
    expect(editDraft(pending, { urlBoxOpen: true }).attemptId).toBe("pcf-1");
  });
});

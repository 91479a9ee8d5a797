import { describe, expect, it } from "vitest";
import { bubbleContent } from "../../WhatsAppChat/model/content";
import { inbound, message } from "./fixtures";

describe("what a message bubble shows", () => {
  it("shows text as it was written", () => {
    expect(bubbleContent(inbound({ text: "Hi, where is my parcel?" }))).toEqual({ type: "text", text: "Hi, where is my parcel?" });
  });

  it("shows an image inline, with its caption", () => {
    const photo = inbound({ kind: "image", text: null, caption: "the box", media: { url: "https://blob/p.jpg", blobName: "p.jpg" } });
    expect(bubbleContent(photo)).toEqual({ type: "image", url: "https://blob/p.jpg", alt: "the box", caption: "the box" });
  });

  it("offers other files as download links named after the file", () => {
    const pdf = message({ kind: "document", text: null, media: { url: "https://blob/r.pdf", filename: "receipt.pdf" } });
    expect(bubbleContent(pdf)).toEqual({ type: "download", url: "https://blob/r.pdf", label: "receipt.pdf", caption: undefined });
    const voice = inbound({ kind: "audio", media: { url: "https://blob/v.ogg", voice: true } });
    expect(bubbleContent(voice)).toMatchObject({ type: "download", label: "Voice message" });
    const video = inbound({ kind: "video", media: { url: "https://blob/v.mp4" } });
    expect(bubbleContent(video)).toMatchObject({ type: "download", label: "Video" });
  });

  it("says a customer's file is still being fetched from WhatsApp", () => {
    expect(bubbleContent(inbound({ kind: "image", media: { metaMediaId: "123" } }))).toMatchObject({ type: "media-pending", label: "Image" });
  });

  it("says when WhatsApp no longer has a customer's file", () => {
    expect(bubbleContent(inbound({ kind: "document", media: { status: "unavailable", filename: "old.pdf" } }))).toMatchObject({
      type: "media-unavailable",
      label: "old.pdf",
    });
  });

  it("words structured messages", () => {
    expect(bubbleContent(inbound({ kind: "reaction", text: "👍" }))).toEqual({ type: "note", text: "Reacted 👍" });
    expect(bubbleContent(inbound({ kind: "location", text: "Head office" }))).toEqual({ type: "text", text: "Location: Head office" });
    expect(bubbleContent(inbound({ kind: "button", text: "Yes please" }))).toEqual({ type: "text", text: "Yes please" });
    expect(bubbleContent(inbound({ kind: "unsupported", text: null }))).toMatchObject({ type: "note" });
  });
});

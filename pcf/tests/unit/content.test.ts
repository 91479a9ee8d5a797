import { describe, expect, it } from "vitest";
import {
  bubbleContent,
  isSystemLine,
  quotedSnippet,
  reactionChips,
  referralCard,
  referredProductLine,
  safeLink,
  shorten,
  showsEdited,
} from "../../WhatsAppChat/model/content";
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

describe("a message's context: edits, deletions, replies, reactions, ads", () => {
  it("shows a deleted message as a placeholder and nothing of what it said", () => {
    const revoked = inbound({ kind: "image", deleted: true, text: "old", caption: "the box", media: { url: "https://blob/p.jpg", blobName: "p.jpg" } });
    expect(bubbleContent(revoked)).toEqual({ type: "deleted", text: "This message was deleted" });
    expect(bubbleContent(inbound({ deleted: true, text: "I didn't mean that" }))).toEqual({ type: "deleted", text: "This message was deleted" });
  });

  it("labels an edited message, but not a deleted one", () => {
    expect(showsEdited(inbound({ edited: true }))).toBe(true);
    expect(showsEdited(inbound({}))).toBe(false);
    expect(showsEdited(inbound({ edited: true, deleted: true }))).toBe(false);
  });

  it("quotes the replied-to message's text, else its kind, else that it was deleted", () => {
    expect(quotedSnippet({ id: "q1", direction: "outbound", kind: "text", text: "It ships today!" })).toMatchObject({
      id: "q1",
      author: "You",
      text: "It ships today!",
      deleted: false,
      label: "Reply to your message: It ships today!",
    });
    expect(quotedSnippet({ id: "q2", direction: "inbound", kind: "image" })).toMatchObject({ author: "Customer", text: "Photo", icon: "📷", label: "Reply to the customer's message: Photo" });
    expect(quotedSnippet({ id: "q3", direction: "inbound", kind: "document", text: null })).toMatchObject({ text: "Document" });
    expect(quotedSnippet({ id: "q4", direction: "inbound", kind: "text", deleted: true })).toMatchObject({ text: "Deleted message", deleted: true });
    // Deleted after the reply's copy was read: the panel holds the quoted message and knows.
    const held = inbound({ id: "q5", deleted: true, text: null });
    expect(quotedSnippet({ id: "q5", direction: "inbound", kind: "text", text: "Where is it?" }, held)).toMatchObject({ text: "Deleted message", deleted: true });
    const long = "word ".repeat(60);
    expect(quotedSnippet({ id: "q6", direction: "inbound", kind: "text", text: long }).text.length).toBeLessThanOrEqual(140);
  });

  it("groups reactions by emoji, in the order given, and says who gave them", () => {
    const reacted = message({
      reactions: [
        { emoji: "❤️", from: "business", at: "2026-03-02T10:05:00Z" },
        { emoji: "👍", from: "customer", at: "2026-03-02T10:01:00Z" },
        { emoji: "❤️", from: "customer", at: "2026-03-02T10:03:00Z" },
        { emoji: "", from: "customer", at: "2026-03-02T10:04:00Z" },
      ],
    });
    expect(reactionChips(reacted)).toEqual([
      { emoji: "👍", count: 1, label: "👍 from the customer" },
      { emoji: "❤️", count: 2, label: "❤️ 2 reactions, from the customer and you" },
    ]);
    expect(reactionChips(message({ deleted: true, reactions: [{ emoji: "👍", from: "customer", at: "2026-03-02T10:01:00Z" }] }))).toEqual([]);
    expect(reactionChips(message({}))).toEqual([]);
  });

  it("makes a card of the ad the customer came from, linking only to web addresses", () => {
    const fromAd = inbound({
      referral: { sourceType: "ad", sourceUrl: "https://fb.me/abc", headline: "Spring sale", body: "Twenty per cent off every parcel box. ".repeat(6), ctwaClid: "ARxx" },
    });
    const card = referralCard(fromAd);
    expect(card?.title).toBe("From ad: Spring sale");
    expect(card?.body?.length).toBeLessThanOrEqual(120);
    expect(card?.body?.endsWith("…")).toBe(true);
    expect(card?.link).toEqual({ href: "https://fb.me/abc", text: "Open the ad" });
    expect(referralCard(inbound({ referral: { sourceType: "post", sourceUrl: "javascript:alert(1)" } }))).toEqual({ title: "From post", body: undefined, link: undefined });
    expect(referralCard(inbound({}))).toBeUndefined();
    expect(safeLink("data:text/html,<script>")).toBeUndefined();
    expect(safeLink("not a url")).toBeUndefined();
    expect(safeLink(" http://example.com/x ")).toBe("http://example.com/x");
  });

  it("names the catalogue product the customer asked about", () => {
    expect(referredProductLine(inbound({ referredProduct: { catalogId: "c1", productRetailerId: "SKU-123" } }))).toBe("About product SKU-123");
    expect(referredProductLine(inbound({ referredProduct: { catalogId: "c1" } }))).toBe("About a product from the catalogue");
    expect(referredProductLine(inbound({}))).toBeUndefined();
  });

  it("tells system messages apart, and shortens at a word", () => {
    expect(isSystemLine(inbound({ kind: "system", text: "The customer changed their number" }))).toBe(true);
    expect(isSystemLine(inbound({ kind: "text" }))).toBe(false);
    expect(bubbleContent(inbound({ kind: "system", text: "" }))).toEqual({ type: "note", text: "WhatsApp system message" });
    expect(shorten("one two three four five", 12)).toBe("one two…");
    expect(shorten("one two three four five", 14)).toBe("one two three…");
    expect(shorten("abcdefghijklmnop", 8)).toBe("abcdefg…");
    expect(shorten("short", 12)).toBe("short");
  });
});

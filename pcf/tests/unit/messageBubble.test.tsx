import * as React from "react";
import { describe, expect, it } from "vitest";
import type { ChatMessage } from "../../WhatsAppChat/api/contract";
import { MessageBubble, type MessageBubbleProps } from "../../WhatsAppChat/components/MessageBubble";
import { type Element, byAttr, findAll, one, render, textOf } from "./markup";
import { inbound, message } from "./fixtures";

const AT = "2026-03-02T10:00:00Z";

function bubble(props: MessageBubbleProps): Element {
  return one(byAttr(render(<MessageBubble {...props} />), "data-message-id", props.message.id), "message row");
}

/** The bubble itself: the first box inside the row's stack. */
function box(row: Element): Element {
  const stack = row.children[0];
  if (typeof stack === "string" || !stack) throw new Error("the row has no stack");
  const inside = stack.children[0];
  if (typeof inside === "string" || !inside) throw new Error("the stack has no bubble");
  return inside;
}

const meta = (row: Element): Element => one(findAll(row, (element) => element.children.some((child) => typeof child !== "string" && child.tag === "time")), "meta line");

describe("a message bubble shows the message's context", () => {
  it("says 'edited' next to the time of an edited message, and nothing for others", () => {
    const row = bubble({ message: inbound({ text: "See you at 10, not 9", edited: true, timestamp: AT }) });
    const line = meta(row);
    const [label, time] = line.children as Element[];
    expect(label?.attrs["data-edited"]).toBe("");
    expect(textOf(label as Element)).toBe("edited");
    expect(time?.tag).toBe("time");
    expect(textOf(row)).toContain("See you at 10, not 9");
    expect(byAttr(bubble({ message: inbound({ text: "Hi" }) }), "data-edited")).toEqual([]);
  });

  it("shows a deleted message as a muted placeholder, without its text, media, ticks, quote or reactions", () => {
    const revoked = message({
      kind: "image",
      deleted: true,
      edited: true,
      text: "secret text",
      caption: "secret caption",
      status: "read",
      media: { url: "https://blob/secret.jpg", blobName: "secret.jpg" },
      quoted: { id: "q", direction: "inbound", kind: "text", text: "quoted words" },
      reactions: [{ emoji: "👍", from: "customer", at: AT }],
      referral: { headline: "Ad headline" },
    });
    const row = bubble({ message: revoked });
    expect(row.attrs["data-deleted"]).toBe("");
    const inside = box(row);
    expect(textOf(one(byAttr(inside, "data-deleted"), "placeholder"))).toBe("⊘This message was deleted");
    const text = textOf(row);
    for (const gone of ["secret", "quoted words", "Ad headline", "👍", "edited"]) expect(text).not.toContain(gone);
    expect(findAll(row, (element) => element.tag === "img" || element.tag === "a" || element.tag === "button")).toEqual([]);
    expect(byAttr(row, "data-delivery")).toEqual([]);
    expect(byAttr(row, "aria-label", "Reactions")).toEqual([]);
  });

  it("groups reactions into chips under the bubble, with a count and who gave them", () => {
    const row = bubble({
      message: message({
        text: "Your parcel is on its way",
        reactions: [
          { emoji: "👍", from: "customer", at: "2026-03-02T10:01:00Z" },
          { emoji: "❤️", from: "customer", at: "2026-03-02T10:02:00Z" },
          { emoji: "❤️", from: "business", at: "2026-03-02T10:03:00Z" },
        ],
      }),
    });
    const group = one(byAttr(row, "role", "group"), "reactions group");
    expect(group.attrs["aria-label"]).toBe("Reactions");
    const chips = byAttr(group, "data-reaction");
    expect(chips.map((chip) => [chip.attrs["data-reaction"], textOf(chip), chip.attrs.role, chip.attrs["aria-label"]])).toEqual([
      ["👍", "👍", "img", "👍 from the customer"],
      ["❤️", "❤️2", "img", "❤️ 2 reactions, from the customer and you"],
    ]);
    // Under the bubble, not in it.
    expect(byAttr(box(row), "data-reaction")).toEqual([]);
  });

  it("quotes the message a reply answers at the top of the bubble: its text", () => {
    const row = bubble({ message: inbound({ text: "Yes, that one", quoted: { id: "m-out", direction: "outbound", kind: "text", text: "Is this your parcel?" } }) });
    const inside = box(row);
    const quote = inside.children[0] as Element;
    expect(quote.attrs["data-quoted-id"]).toBe("m-out");
    expect(quote.attrs.role).toBe("note");
    expect(quote.attrs["aria-label"]).toBe("Reply to your message: Is this your parcel?");
    expect(textOf(quote)).toBe("YouIs this your parcel?");
    expect(textOf(inside)).toMatch(/^YouIs this your parcel\?Yes, that one/);
  });

  it("quotes a photo without caption by its kind, and a deleted message as deleted", () => {
    const photo = bubble({ message: message({ text: "Thanks for the photo", quoted: { id: "p", direction: "inbound", kind: "image" } }) });
    expect(textOf(one(byAttr(photo, "data-quoted-id"), "quote"))).toBe("Customer📷Photo");
    const gone = bubble({ message: message({ text: "Which one?", quoted: { id: "d", direction: "inbound", kind: "text", deleted: true } }) });
    const quote = one(byAttr(gone, "data-quoted-id"), "quote");
    expect(textOf(quote)).toBe("Customer⊘Deleted message");
    expect(quote.attrs["aria-label"]).toBe("Reply to the customer's message: Deleted message");
  });

  it("makes the quote a button that goes to the quoted message when the panel holds it", () => {
    const quoted: ChatMessage = inbound({ id: "photo-1", kind: "image", text: null, media: { url: "https://blob/p.jpg" } });
    const reply = message({ text: "Got it", quoted: { id: "photo-1", direction: "inbound", kind: "image" } });
    const row = bubble({ message: reply, quotedMessage: quoted, onShowMessage: () => undefined });
    const button = one(byAttr(row, "data-quoted-id", "photo-1"), "quote");
    expect(button.tag).toBe("button");
    expect(button.attrs.type).toBe("button");
    expect(button.attrs["aria-label"]).toBe("Reply to the customer's message: Photo. Show it");
    // Not held (an older page): a plain block, not a button that goes nowhere.
    expect(one(byAttr(bubble({ message: reply, onShowMessage: () => undefined }), "data-quoted-id"), "quote").tag).toBe("div");
  });

  it("shows the ad the customer came from above their text, with a safe link to it", () => {
    const row = bubble({
      message: inbound({
        text: "Hi, is the spring offer still on?",
        referral: {
          sourceType: "ad",
          sourceUrl: "https://fb.me/2ZBGkAb8s",
          sourceId: "120210000000",
          headline: "Spring sale: 20% off",
          body: "Every parcel box and label printer is 20% off until Sunday. Message us on WhatsApp to order yours today and get free delivery.",
          mediaType: "image",
          imageUrl: "https://scontent.example/ad.jpg",
          ctwaClid: "ARAkLk_secret_click_id",
        },
      }),
    });
    const inside = box(row);
    const card = inside.children[0] as Element;
    expect(card.attrs["data-referral"]).toBe("");
    expect(card.attrs["aria-label"]).toBe("From ad: Spring sale: 20% off");
    expect(textOf(card)).toContain("From ad: Spring sale: 20% off");
    expect(textOf(card)).toContain("Every parcel box");
    expect(textOf(card)).not.toContain("free delivery."); // truncated
    const link = one(findAll(card, (element) => element.tag === "a"), "link");
    expect(link.attrs).toMatchObject({ href: "https://fb.me/2ZBGkAb8s", target: "_blank", rel: "noopener noreferrer" });
    expect(textOf(link)).toContain("Open the ad");
    expect(textOf(row)).not.toContain("ARAkLk"); // the click id is for ads reporting
    expect(findAll(row, (element) => element.tag === "img")).toEqual([]); // no image from Meta's servers
    expect(textOf(inside).indexOf("From ad")).toBeLessThan(textOf(inside).indexOf("Hi, is the spring offer still on?"));
  });

  it("links an ad only to a web address", () => {
    const row = bubble({ message: inbound({ text: "Hi", referral: { sourceType: "ad", sourceUrl: "javascript:alert(document.cookie)", headline: "Sale" } }) });
    expect(textOf(one(byAttr(row, "data-referral"), "card"))).toBe("From ad: Sale");
    expect(findAll(row, (element) => element.tag === "a")).toEqual([]);
  });

  it("says which product the customer asked about", () => {
    const row = bubble({ message: inbound({ text: "Do you have it in blue?", referredProduct: { catalogId: "cat-1", productRetailerId: "BOX-L-42" } }) });
    const line = one(byAttr(row, "data-referred-product"), "product line");
    expect(textOf(line)).toContain("About product BOX-L-42");
  });

  it("draws a system message as a centred line, not as anyone's bubble", () => {
    const row = bubble({ message: inbound({ kind: "system", text: "The customer changed their number", timestamp: AT }) });
    expect(row.attrs["data-kind"]).toBe("system");
    expect(textOf(row)).toMatch(/^The customer changed their number10:00/);
    expect(byAttr(row, "role", "note")).toHaveLength(1);
    expect(byAttr(row, "data-delivery")).toEqual([]);
    expect(byAttr(bubble({ message: inbound({ text: "Hi" }) }), "data-kind")).toEqual([]);
  });
});

import * as React from "react";
import { describe, expect, it } from "vitest";
import { MessageBubble } from "../../WhatsAppChat/components/MessageBubble";
import { EMPTY_DRAFT, draftToResend } from "../../WhatsAppChat/model/draft";
import { byAttr, render, textOf } from "./markup";
import { inbound, message } from "./fixtures";

const failed = message({ id: "f1", kind: "text", text: "Your parcel ships Friday.", status: "failed", error: { code: 131026, title: "Message undeliverable" } } as never);

describe("a message WhatsApp did not deliver", () => {
  it("goes back to the composer as it was: its text, or its file and caption", () => {
    expect(draftToResend(failed)).toEqual({ ...EMPTY_DRAFT, text: "Your parcel ships Friday." });
    const photo = message({ kind: "image", caption: "The box", status: "failed", media: { url: "https://media.example.test/m/box.png", mimeType: "image/png", status: "stored" } } as never);
    expect(draftToResend(photo)).toMatchObject({ text: "The box", mediaUrl: "https://media.example.test/m/box.png", mediaType: "image", urlBoxOpen: true });
    expect(draftToResend(photo)?.attemptId).toBeUndefined();
  });

  it("only when it failed, was ours, and is something the composer sends", () => {
    expect(draftToResend({ ...failed, status: "read" })).toBeUndefined();
    expect(draftToResend(inbound({ kind: "text", text: "hi" }))).toBeUndefined();
    expect(draftToResend({ ...failed, kind: "template" })).toBeUndefined();
    expect(draftToResend({ ...failed, deleted: true })).toBeUndefined();
  });

  it("offers 'Edit and resend' under the reason, while the window is open", () => {
    const open = render(<MessageBubble message={failed} onResend={() => undefined} />);
    expect(byAttr(open, "data-resend")).toHaveLength(1);
    expect(textOf(byAttr(open, "data-resend")[0]!)).toBe("Edit and resend");
    expect(byAttr(render(<MessageBubble message={failed} />), "data-resend")).toHaveLength(0);
  });
});

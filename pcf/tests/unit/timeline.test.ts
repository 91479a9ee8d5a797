import { describe, expect, it } from "vitest";
import { fresherCopy, lastInboundAt, mergePage, readingOrder, upsertMessage } from "../../WhatsAppChat/model/timeline";
import { NOW, ids, inbound, message } from "./fixtures";

describe("the conversation timeline", () => {
  it("reads oldest first, though the API pages newest first", () => {
    const first = inbound({ id: "a", timestamp: "2026-03-02T09:00:00Z" });
    const second = message({ id: "b", timestamp: "2026-03-02T09:05:00Z" });
    const timeline = mergePage([], [second, first], "latest", NOW);
    expect(ids(readingOrder(timeline))).toEqual(["a", "b"]);
  });

  it("holds each message once when a poll brings back messages already shown", () => {
    const a = inbound({ id: "a", timestamp: "2026-03-02T09:00:00Z" });
    const b = message({ id: "b", timestamp: "2026-03-02T09:01:00Z" });
    const c = inbound({ id: "c", timestamp: "2026-03-02T09:02:00Z" });
    const held = mergePage([], [b, a], "latest", NOW);
    const polled = mergePage(held, [c, b], "latest", NOW);
    expect(ids(polled)).toEqual(["c", "b", "a"]);
  });

  it("keeps the API's order for messages written in the same second", () => {
    const sameSecond = "2026-03-02T09:00:00Z";
    const reply = message({ id: "zz-reply", timestamp: sameSecond });
    const question = inbound({ id: "aa-question", timestamp: sameSecond });
    // Newest first from the API: the reply was written after the question, whatever the ids say.
    const timeline = mergePage([], [reply, question], "latest", NOW);
    expect(ids(readingOrder(timeline))).toEqual(["aa-question", "zz-reply"]);
  });

  it("treats a held message of the same second missing from a poll page as older than the page", () => {
    const sameSecond = "2026-03-02T09:00:00Z";
    const held = mergePage([], [message({ id: "old", timestamp: sameSecond })], "latest", NOW);
    const polled = mergePage(held, [inbound({ id: "new", timestamp: sameSecond })], "latest", NOW);
    expect(ids(polled)).toEqual(["new", "old"]);
  });

  it("puts an older page above what is shown, even for messages of the same second", () => {
    const sameSecond = "2026-03-02T09:00:00Z";
    const held = mergePage([], [message({ id: "newer", timestamp: sameSecond })], "latest", NOW);
    const withOlder = mergePage(held, [inbound({ id: "older", timestamp: sameSecond })], "older", NOW);
    expect(ids(readingOrder(withOlder))).toEqual(["older", "newer"]);
  });

  it("shows a sent message at once, as the newest", () => {
    const held = mergePage([], [inbound({ id: "q", timestamp: "2026-03-02T09:00:00Z" })], "latest", NOW);
    const timeline = upsertMessage(held, message({ id: "r", status: "accepted", timestamp: "2026-03-02T09:00:00Z" }), NOW);
    expect(ids(readingOrder(timeline))).toEqual(["q", "r"]);
  });

  it("finds when the customer last wrote", () => {
    const timeline = mergePage(
      [],
      [message({ timestamp: "2026-03-02T09:09:00Z" }), inbound({ timestamp: "2026-03-02T09:05:00Z" }), inbound({ timestamp: "2026-03-02T09:00:00Z" })],
      "latest",
      NOW,
    );
    expect(lastInboundAt(timeline)).toBe("2026-03-02T09:05:00Z");
  });
});

describe("delivery status across answers that arrive out of order", () => {
  it("never moves a message's ticks backwards", () => {
    const read = message({ id: "x", status: "read" });
    const staleSendAnswer = { ...read, status: "accepted" as const };
    expect(fresherCopy(read, staleSendAnswer, NOW).status).toBe("read");
    const timeline = mergePage([read], [staleSendAnswer], "latest", NOW);
    expect(timeline[0]?.status).toBe("read");
  });

  it("moves forward as WhatsApp reports", () => {
    const sent = message({ id: "x", status: "sent" });
    expect(fresherCopy(sent, { ...sent, status: "delivered" }, NOW).status).toBe("delivered");
  });

  it("shows a failure that ends a message only sent", () => {
    const sent = message({ id: "x", status: "sent" });
    const failed = { ...sent, status: "failed" as const, error: { code: 131026, title: "Message undeliverable" } };
    expect(fresherCopy(sent, failed, NOW).status).toBe("failed");
  });

  it("ignores a stray failure once the message was delivered, as the API does", () => {
    const delivered = message({ id: "x", status: "delivered" });
    expect(fresherCopy(delivered, { ...delivered, status: "failed" }, NOW).status).toBe("delivered");
  });

  it("keeps a failure once shown", () => {
    const failed = message({ id: "x", status: "failed" });
    expect(fresherCopy(failed, { ...failed, status: "sent" }, NOW).status).toBe("failed");
  });
});

describe("a message that changed after it was shown", () => {
  it("shows the poll's copy: edited, deleted, reacted to", () => {
    const question = inbound({ id: "q", text: "Where is my parcl?", timestamp: "2026-03-02T09:00:00Z" });
    const answer = message({ id: "a", status: "read", timestamp: "2026-03-02T09:01:00Z" });
    const photo = inbound({ id: "p", kind: "image", media: { url: "https://blob/p.jpg?se=2026-03-02T13%3A00%3A00Z", blobName: "p.jpg" }, timestamp: "2026-03-02T09:02:00Z" });
    const held = mergePage([], [photo, answer, question], "latest", NOW);
    const changed = [
      { ...photo, deleted: true, media: null },
      { ...answer, reactions: [{ emoji: "👍", from: "customer" as const, at: "2026-03-02T09:03:00Z" }] },
      { ...question, text: "Where is my parcel?", edited: true },
    ];
    const polled = mergePage(held, changed, "latest", NOW);
    const byId = new Map(polled.map((m) => [m.id, m]));
    expect(byId.get("q")).toMatchObject({ text: "Where is my parcel?", edited: true });
    expect(byId.get("a")?.reactions).toEqual([{ emoji: "👍", from: "customer", at: "2026-03-02T09:03:00Z" }]);
    expect(byId.get("p")).toMatchObject({ deleted: true, media: null });
    expect(ids(polled)).toEqual(["p", "a", "q"]);
  });
});

import { describe, expect, it } from "vitest";
import { canReply, replyWindow, sessionIsBehind, windowClosedMessage } from "../../WhatsAppChat/model/sessionWindow";
import { mergePage } from "../../WhatsAppChat/model/timeline";
import { NOW, inbound, message } from "./fixtures";

describe("the 24-hour reply window", () => {
  it("is the seed's validation message when closed", () => {
    expect(windowClosedMessage()).toBe("You can only reply within 24 hours of the customer's last message.");
  });

  it("is closed for a customer who never wrote, and the composer is hidden", () => {
    const window = replyWindow({ active: false, expiresAt: null, lastInboundAt: null }, NOW);
    expect(window).toEqual({ state: "closed", lastInboundAt: undefined });
    expect(canReply(window)).toBe(false);
  });

  it("is open until 24 hours after the customer's last message", () => {
    const window = replyWindow({ active: true, expiresAt: "2026-03-03T09:00:00Z", lastInboundAt: "2026-03-02T09:00:00Z" }, NOW);
    expect(window).toEqual({ state: "open", closesAt: new Date("2026-03-03T09:00:00Z") });
    expect(canReply(window)).toBe(true);
  });

  it("closes by itself when the API's answer has outlived the window", () => {
    const window = replyWindow({ active: true, expiresAt: "2026-03-02T11:59:59Z", lastInboundAt: "2026-03-01T11:59:59Z" }, NOW);
    expect(window).toEqual({ state: "closed", lastInboundAt: new Date("2026-03-01T11:59:59Z") });
  });

  it("is unknown until the session has loaded", () => {
    expect(canReply(replyWindow(undefined, NOW))).toBe(false);
    expect(replyWindow(undefined, NOW).state).toBe("unknown");
  });
});

describe("when to ask for the session again", () => {
  const session = { active: true, expiresAt: "2026-03-03T09:00:00Z", lastInboundAt: "2026-03-02T09:00:00Z" };

  it("asks when the history shows a customer message the session does not know", () => {
    const timeline = mergePage([], [inbound({ timestamp: "2026-03-02T11:00:00Z" })], "latest", NOW);
    expect(sessionIsBehind(session, timeline)).toBe(true);
    expect(sessionIsBehind({ active: false, expiresAt: null, lastInboundAt: null }, timeline)).toBe(true);
  });

  it("does not ask when only the agent's messages are new", () => {
    const timeline = mergePage([], [message({ timestamp: "2026-03-02T11:00:00Z" }), inbound({ timestamp: "2026-03-02T09:00:00Z" })], "latest", NOW);
    expect(sessionIsBehind(session, timeline)).toBe(false);
    expect(sessionIsBehind(session, [])).toBe(false);
  });
});

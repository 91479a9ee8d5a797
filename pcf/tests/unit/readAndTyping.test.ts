import { describe, expect, it } from "vitest";
import { ApiError } from "../../WhatsAppChat/api/apiError";
import type { SessionStatus } from "../../WhatsAppChat/api/contract";
import { TYPING_EVERY_MS, unreadInbound } from "../../WhatsAppChat/model/readReceipts";
import { NOW, inbound, message, page } from "./fixtures";
import { OPEN, ScriptedApi, panel } from "./scriptedApi";

const reads = (api: ScriptedApi): number => api.asked.filter((call) => call === "read").length;
const typings = (api: ScriptedApi): number => api.asked.filter((call) => call === "typing").length;

describe("which customer message is unread", () => {
  it("is the newest one, when it is newer than the agent side last read", () => {
    const timeline = [inbound({ id: "new", timestamp: "2026-03-02T11:00:00Z" }), message({ id: "ours" }), inbound({ id: "old", timestamp: "2026-03-02T09:00:00Z" })];
    expect(unreadInbound(timeline, { ...OPEN })?.id).toBe("new");
    expect(unreadInbound(timeline, { ...OPEN, agentReadAt: "2026-03-02T10:00:00Z" })?.id).toBe("new");
    expect(unreadInbound(timeline, { ...OPEN, agentReadAt: "2026-03-02T11:00:05Z" })).toBeUndefined();
    expect(unreadInbound([message()], OPEN)).toBeUndefined();
  });
});

describe("read receipts while the panel is visible", () => {
  async function visiblePanel(session: SessionStatus = OPEN) {
    const api = new ScriptedApi();
    api.session_ = session;
    api.pages = [page([inbound({ id: "q1", timestamp: "2026-03-02T11:00:00Z" })])];
    const chat = panel(api, { entity: "contact", id: "3f2504e0-4f89-11d3-9a0c-0305e82c3301" });
    await chat.controller.load();
    return { api, ...chat };
  }

  it("marks the newest customer message read once, however often the panel shows it", async () => {
    const { api, controller, state } = await visiblePanel();
    api.readAnswers = [{ sent: true, messageId: "q1", agentReadAt: "2026-03-02T12:00:00Z" }];
    await controller.markRead();
    await controller.markRead();
    await controller.markRead();
    expect(reads(api)).toBe(1);
    expect(api.records).toContain("read contact:3f2504e0-4f89-11d3-9a0c-0305e82c3301");
    expect(state().session?.agentReadAt).toBe("2026-03-02T12:00:00Z");
  });

  it("marks the next one when the customer writes again", async () => {
    const { api, controller } = await visiblePanel();
    await controller.markRead();
    api.pages = [page([inbound({ id: "q2", timestamp: "2026-03-02T12:30:00Z" })])];
    await controller.poll();
    await controller.markRead();
    await controller.markRead();
    expect(reads(api)).toBe(2);
  });

  it("asks nothing for a message the agent side has read (another agent, another tab)", async () => {
    const { api, controller } = await visiblePanel({ ...OPEN, agentReadAt: "2026-03-02T11:05:00Z" });
    await controller.markRead();
    expect(reads(api)).toBe(0);
  });

  it("does not ask again for the same message after a failure (blue ticks are a courtesy), and says nothing", async () => {
    const { api, controller, state } = await visiblePanel();
    api.readAnswers = [new ApiError(502, "whatsapp_unavailable", "Meta is down")];
    await controller.markRead();
    await controller.markRead();
    expect(reads(api)).toBe(1);
    expect(state().notice).toBeUndefined();
  });

  it("nothing before the chat loaded", async () => {
    const api = new ScriptedApi();
    const { controller } = panel(api);
    await controller.markRead();
    expect(reads(api)).toBe(0);
  });
});

describe("the typing indicator", () => {
  async function typingPanel(session: SessionStatus = OPEN) {
    const api = new ScriptedApi();
    api.session_ = session;
    api.pages = [page([inbound({ id: "q1" })])];
    let clock = NOW.getTime();
    const chat = panel(api, undefined, { now: () => new Date(clock) });
    await chat.controller.load();
    return { api, ...chat, wait: (ms: number) => (clock += ms) };
  }

  it("goes with the first keystroke, then at most once every 20 seconds", async () => {
    const { api, controller, wait } = await typingPanel();
    await controller.typing();
    for (let second = 1; second < 20; second++) {
      wait(1_000);
      await controller.typing();
    }
    expect(typings(api)).toBe(1);
    wait(TYPING_EVERY_MS - 19_000);
    await controller.typing();
    expect(typings(api)).toBe(2);
  });

  it("never while the window is closed", async () => {
    const { api, controller } = await typingPanel({ active: false, expiresAt: null, lastInboundAt: "2026-02-27T09:00:00Z" });
    await controller.typing();
    expect(typings(api)).toBe(0);
  });

  it("a failure says nothing to the agent", async () => {
    const { api, controller, state } = await typingPanel();
    api.typingAnswers = [new ApiError(409, "session_inactive", "closed")];
    await controller.typing();
    expect(state().notice).toBeUndefined();
  });
});

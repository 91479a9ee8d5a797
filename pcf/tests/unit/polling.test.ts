import { describe, expect, it } from "vitest";
import { CATCH_UP_PAGES, pollDelay } from "../../WhatsAppChat/model/polling";
import { PAGE_SIZE } from "../../WhatsAppChat/chat/chatController";
import { NOW, ids, inbound, message, page } from "./fixtures";
import { ScriptedApi, panel } from "./scriptedApi";

describe("the polling pace", () => {
  it("polls every 5 s while something happens, slows down after two idle minutes, never slower than 30 s", () => {
    expect(pollDelay(5_000, 0)).toBe(5_000);
    expect(pollDelay(5_000, 119_000)).toBe(5_000);
    expect(pollDelay(5_000, 120_000)).toBe(10_000);
    expect(pollDelay(5_000, 150_000)).toBe(20_000);
    expect(pollDelay(5_000, 180_000)).toBe(30_000);
    expect(pollDelay(5_000, 3_600_000)).toBe(30_000);
  });

  it("keeps an interval set slower than 30 s as it is", () => {
    expect(pollDelay(45_000, 600_000)).toBe(45_000);
  });

  it("goes back to the quick pace when a poll brings something, or the agent types, sends or comes back", async () => {
    let clock = NOW.getTime();
    const api = new ScriptedApi();
    api.pages = [{ ...page([]), pollCursor: "c0" }];
    const { controller } = panel(api, undefined, { now: () => new Date(clock) });
    await controller.load();
    clock += 5 * 60_000;
    expect(controller.nextPollDelay(5_000)).toBe(30_000);
    api.pages = [{ ...page([inbound({ id: "new", timestamp: new Date(clock).toISOString() })]), pollCursor: "c1" }];
    await controller.poll();
    expect(controller.nextPollDelay(5_000)).toBe(5_000);
    clock += 5 * 60_000;
    api.pages = [{ ...page([]), pollCursor: "c1" }];
    await controller.poll();
    expect(controller.nextPollDelay(5_000)).toBe(30_000);
    controller.markActive();
    expect(controller.nextPollDelay(5_000)).toBe(5_000);
    clock += 5 * 60_000;
    await controller.typing();
    expect(controller.nextPollDelay(5_000)).toBe(5_000);
  });
});

describe("a poll answer with more changes waiting (`next`)", () => {
  it("polls again at once with changedSince=next until next is null, and shows every change", async () => {
    const api = new ScriptedApi();
    const reply = message({ id: "r", status: "sent", timestamp: "2026-03-02T09:00:00Z" });
    api.pages = [
      { ...page([reply]), pollCursor: "p0" },
      { ...page([inbound({ id: "a", timestamp: "2026-03-02T10:00:00Z" }), { ...reply, status: "delivered" }], "p1"), pollCursor: "p1" },
      { ...page([inbound({ id: "b", timestamp: "2026-03-02T10:01:00Z" })], "p2"), pollCursor: "p2" },
      { ...page([{ ...reply, status: "read" }]), pollCursor: "p3" },
    ];
    const { controller, state } = panel(api);
    await controller.load();
    api.asked.length = 0;
    await controller.poll();
    expect(api.asked.filter((asked) => asked.startsWith("messages"))).toEqual([
      `messages limit=${PAGE_SIZE} changedSince=p0`,
      `messages limit=${PAGE_SIZE} changedSince=p1`,
      `messages limit=${PAGE_SIZE} changedSince=p2`,
    ]);
    expect(ids(state().timeline)).toEqual(["b", "a", "r"]);
    // The later change of the same message wins.
    expect(state().timeline.find((each) => each.id === "r")?.status).toBe("read");
    expect(state().pollCursor).toBe("p3");
  });

  it("stops after a bounded number of pages in a row, and goes on at the next poll", async () => {
    const api = new ScriptedApi();
    api.pages = [{ ...page([]), pollCursor: "p0" }];
    for (let i = 1; i <= CATCH_UP_PAGES + 5; i += 1) api.pages.push({ ...page([inbound({ id: `m${i}`, timestamp: "2026-03-02T10:00:00Z" })], `p${i}`), pollCursor: `p${i}` });
    const { controller, state } = panel(api);
    await controller.load();
    api.asked.length = 0;
    await controller.poll();
    expect(api.asked.filter((asked) => asked.startsWith("messages"))).toHaveLength(CATCH_UP_PAGES);
    expect(state().pollCursor).toBe(`p${CATCH_UP_PAGES}`);
  });

  it("a poll without `next` costs one request", async () => {
    const api = new ScriptedApi();
    api.pages = [{ ...page([]), pollCursor: "p0" }, { ...page([]), pollCursor: "p0" }];
    const { controller } = panel(api);
    await controller.load();
    api.asked.length = 0;
    await controller.poll();
    expect(api.asked).toEqual([`messages limit=${PAGE_SIZE} changedSince=p0`]);
  });
});

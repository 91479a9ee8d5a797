import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../../WhatsAppChat/api/apiError";
import type { InboxPage, InboxState } from "../../WhatsAppInbox/api/contract";
import { InboxController, type InboxView, PAGE_SIZE } from "../../WhatsAppInbox/model/inboxController";
import { MAX_BACKOFF, nextPollDelay } from "../../WhatsAppInbox/model/polling";
import { pickOutcome } from "../../WhatsAppInbox/model/rowView";
import { ADA, GRACE, NEWCOMER, OLD, conversation } from "./inboxFixtures";

type Call = { state: InboxState; limit: number; next?: string };

/** An API that answers from a queue of pages (or errors), and remembers what it was asked. */
function scriptedInbox(...answers: (InboxPage | Error)[]) {
  const calls: Call[] = [];
  const queue = [...answers];
  return {
    calls,
    push: (...more: (InboxPage | Error)[]) => queue.push(...more),
    conversations: (page: Call): Promise<InboxPage> => {
      calls.push(page);
      const answer = queue.shift() ?? new Error("no more answers scripted");
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
    },
  };
}

const INTERVAL = 15_000;

function controller(api: ReturnType<typeof scriptedInbox>, state: InboxState = "all") {
  const views: InboxView[] = [];
  const made = new InboxController(api, INTERVAL, (view) => views.push(view), state);
  return { made, views };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("loading and paging the inbox", () => {
  it("loads the first page of the starting tab", async () => {
    const api = scriptedInbox({ conversations: [ADA, GRACE], next: "cursor-2" });
    const { made } = controller(api, "waiting");
    expect(made.current.loading).toBe(true);
    await made.start();
    expect(api.calls).toEqual([{ state: "waiting", limit: PAGE_SIZE }]);
    expect(made.current).toMatchObject({ loading: false, rows: [ADA, GRACE], next: "cursor-2" });
    made.dispose();
  });

  it("Load more asks for the next page with `next` and appends it, once per customer", async () => {
    const api = scriptedInbox({ conversations: [ADA, GRACE], next: "cursor-2" }, { conversations: [GRACE, NEWCOMER, OLD], next: null });
    const { made } = controller(api);
    await made.start();
    await made.loadMore();
    expect(api.calls[1]).toEqual({ state: "all", limit: PAGE_SIZE, next: "cursor-2" });
    expect(made.current.rows.map((r) => r.customerId)).toEqual([ADA, GRACE, NEWCOMER, OLD].map((r) => r.customerId));
    expect(made.current.next).toBeNull();
    await made.loadMore(); // nothing more: no call
    expect(api.calls).toHaveLength(2);
    made.dispose();
  });

  it("a poll after Load more asks for as many rows as are shown, so none drops off", async () => {
    const many = Array.from({ length: PAGE_SIZE }, (_, i) => conversation({ customerId: `4477009${String(i).padStart(5, "0")}` }));
    const api = scriptedInbox({ conversations: many, next: "cursor-2" }, { conversations: [OLD], next: null }, { conversations: [...many, OLD], next: null });
    const { made } = controller(api);
    await made.start();
    await made.loadMore();
    await made.refresh("poll");
    expect(api.calls[2]).toEqual({ state: "all", limit: PAGE_SIZE + 1 });
    expect(made.current.rows).toHaveLength(PAGE_SIZE + 1);
    made.dispose();
  });

  it("another tab starts again from its first page", async () => {
    const api = scriptedInbox({ conversations: [ADA, GRACE, NEWCOMER, OLD], next: null }, { conversations: [ADA, NEWCOMER], next: null });
    const { made } = controller(api);
    await made.start();
    await made.setFilter("waiting");
    expect(api.calls[1]).toEqual({ state: "waiting", limit: PAGE_SIZE });
    expect(made.current).toMatchObject({ state: "waiting", rows: [ADA, NEWCOMER] });
    made.dispose();
  });

  it("an answer for the tab the agent has left is dropped", async () => {
    let release: (page: InboxPage) => void = () => undefined;
    const calls: Call[] = [];
    const api = {
      conversations: (page: Call): Promise<InboxPage> => {
        calls.push(page);
        if (page.state === "all") return new Promise((resolve) => (release = resolve));
        return Promise.resolve({ conversations: [NEWCOMER], next: null });
      },
    };
    const made = new InboxController(api, INTERVAL, () => undefined, "all");
    const first = made.start();
    await made.setFilter("waiting");
    release({ conversations: [ADA, GRACE], next: null });
    await first;
    expect(made.current).toMatchObject({ state: "waiting", rows: [NEWCOMER] });
    made.dispose();
  });

  it("keeps the rows and says what went wrong when a refresh fails", async () => {
    const api = scriptedInbox({ conversations: [ADA], next: null }, new ApiError(503, "store_unavailable", "The message store is unavailable."));
    const { made } = controller(api);
    await made.start();
    await made.refresh("agent");
    expect(made.current.rows).toEqual([ADA]);
    expect(made.current.problem?.code).toBe("store_unavailable");
    made.dispose();
  });
});

describe("picking a conversation", () => {
  it("opens the linked contact's or lead's form with navigation.openForm", async () => {
    const openForm = vi.fn(() => Promise.resolve({}));
    const { made } = controller(scriptedInbox({ conversations: [ADA, GRACE], next: null }));
    await made.start();
    await made.pick(ADA, { openForm });
    await made.pick(GRACE, { openForm });
    expect(openForm.mock.calls).toEqual([[{ entityName: "contact", entityId: ADA.record?.id }], [{ entityName: "lead", entityId: GRACE.record?.id }]]);
    expect(made.current.notice).toBeUndefined();
    made.dispose();
  });

  it("says there is no linked record, and navigates nowhere", async () => {
    const openForm = vi.fn(() => Promise.resolve({}));
    const { made } = controller(scriptedInbox({ conversations: [NEWCOMER], next: null }));
    await made.start();
    const outcome = await made.pick({ ...NEWCOMER, profileName: "Sam Patel" }, { openForm });
    expect(openForm).not.toHaveBeenCalled();
    expect(outcome).toEqual({ noRecord: expect.stringContaining("Sam Patel has no linked contact or lead yet") as string });
    expect(made.current.notice).toContain("Sam Patel has no linked contact or lead yet");
    made.dispose();
    expect(pickOutcome(NEWCOMER)).toEqual({ noRecord: expect.stringContaining("+15551234567 has no linked contact or lead") as string });
  });

  it("says so when the form does not open", async () => {
    const { made } = controller(scriptedInbox({ conversations: [ADA], next: null }));
    await made.start();
    await made.pick(ADA, { openForm: () => Promise.reject(new Error("Record is unavailable")) });
    expect(made.current.notice).toBe("The form could not be opened: Record is unavailable");
    made.dispose();
  });
});

describe("polling", () => {
  it("backs off while nothing changes: the interval doubles, up to eight times", () => {
    expect([0, 1, 2, 3, 4, 10].map((quiet) => nextPollDelay(INTERVAL, quiet))).toEqual([15_000, 30_000, 60_000, 120_000, 120_000, 120_000]);
    expect(MAX_BACKOFF).toBe(8);
  });

  it("polls every interval while things change, then less often while quiet, and at once when a change comes", async () => {
    const api = scriptedInbox({ conversations: [ADA], next: null });
    const { made } = controller(api);
    await made.start();
    // Two quiet polls: after 15 s, then after 30 s (not 15).
    api.push({ conversations: [ADA], next: null }, { conversations: [ADA], next: null });
    await vi.advanceTimersByTimeAsync(15_000);
    expect(api.calls).toHaveLength(2);
    expect(made.quiet).toBe(1);
    await vi.advanceTimersByTimeAsync(29_000);
    expect(api.calls).toHaveLength(2); // backing off: not yet
    await vi.advanceTimersByTimeAsync(1_000);
    expect(api.calls).toHaveLength(3);
    expect(made.quiet).toBe(2);
    // Something changes at the next poll (60 s later): back to every 15 s.
    api.push({ conversations: [{ ...ADA, unreadCount: 3 }], next: null });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(api.calls).toHaveLength(4);
    expect(made.quiet).toBe(0);
    expect(made.current.rows[0]?.unreadCount).toBe(3);
    api.push({ conversations: [{ ...ADA, unreadCount: 3 }], next: null });
    await vi.advanceTimersByTimeAsync(15_000);
    expect(api.calls).toHaveLength(5);
    made.dispose();
  });

  it("stops while the inbox is off screen, and polls at once when it comes back or the window gets focus", async () => {
    const api = scriptedInbox({ conversations: [ADA], next: null });
    const { made } = controller(api);
    await made.start();
    made.setVisible(false);
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(api.calls).toHaveLength(1);
    api.push({ conversations: [ADA, NEWCOMER], next: null });
    made.setVisible(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(api.calls).toHaveLength(2);
    expect(made.current.rows).toEqual([ADA, NEWCOMER]);
    api.push({ conversations: [ADA, NEWCOMER], next: null });
    made.focused();
    await vi.advanceTimersByTimeAsync(0);
    expect(api.calls).toHaveLength(3);
    made.dispose();
  });

  it("does not poll once the agent must sign in, nor after dispose", async () => {
    const api = scriptedInbox(ApiError.client("sign_in_required", "interaction_required"));
    const { made } = controller(api);
    await made.start();
    expect(made.current.problem?.code).toBe("sign_in_required");
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(api.calls).toHaveLength(1);
    made.dispose();
    const quiet = scriptedInbox({ conversations: [], next: null });
    const other = controller(quiet).made;
    await other.start();
    other.dispose();
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(quiet.calls).toHaveLength(1);
  });
});

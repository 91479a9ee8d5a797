import * as React from "react";
import { webDarkTheme } from "@fluentui/react-components";
import { describe, expect, it } from "vitest";
import { ApiError } from "../../WhatsAppChat/api/apiError";
import { InboxView } from "../../WhatsAppInbox/components/InboxView";
import { initials } from "../../WhatsAppInbox/components/ConversationRow";
import { clockFromUserSettings } from "../../WhatsAppChat/host/userClock";
import type { InboxView as InboxViewState } from "../../WhatsAppInbox/model/inboxController";
import { byAttr, findAll, one, render, textOf } from "./markup";
import { ADA, GRACE, INBOX_NOW, NEWCOMER, OLD } from "./inboxFixtures";

const view = (overrides: Partial<InboxViewState> = {}): InboxViewState => ({
  state: "all",
  rows: [ADA, GRACE, NEWCOMER, OLD],
  next: null,
  loading: false,
  loadingMore: false,
  refreshing: false,
  ...overrides,
});

// A D365 user at UTC who writes dates dd/MM/yyyy and times HH:mm.
const CLOCK = clockFromUserSettings({ getTimeZoneOffsetMinutes: () => 0, dateFormattingInfo: { shortDatePattern: "dd/MM/yyyy", shortTimePattern: "HH:mm" } });

const inbox = (overrides: Partial<InboxViewState> = {}, extra: Partial<React.ComponentProps<typeof InboxView>> = {}) =>
  render(<InboxView view={view(overrides)} now={INBOX_NOW} clock={CLOCK} {...extra} />);

const row = (tree: ReturnType<typeof render>, customer: string) => one(byAttr(tree, "data-customer", customer), `row ${customer}`);

describe("the inbox's rows", () => {
  it("shows one row per conversation, in the API's order, each a button", () => {
    const rows = byAttr(inbox(), "data-customer");
    expect(rows.map((r) => r.attrs["data-customer"])).toEqual([ADA.customerId, GRACE.customerId, NEWCOMER.customerId, OLD.customerId]);
    expect(rows.every((r) => r.tag === "button" && r.attrs.type === "button")).toBe(true);
  });

  it("shows the profile name, the record, the preview, the time, the unread badge and the window", () => {
    const ada = row(inbox(), ADA.customerId);
    const text = textOf(ada);
    expect(text).toContain("Ada Lovelace");
    expect(textOf(one(byAttr(ada, "data-testid", "record")))).toBe("Contact");
    expect(text).toContain("Can I change the address?");
    expect(text).toContain("2 min");
    expect(textOf(one(byAttr(ada, "data-testid", "unread")))).toBe("2");
    expect(textOf(one(byAttr(ada, "data-window", "open")))).toBe("Window open");
    expect(ada.attrs["data-record"]).toBe(`contact:${ADA.record?.id}`);
    expect(ada.attrs["aria-label"]).toBe("Ada Lovelace, Contact, 2 unread, Window open, Can I change the address?, 2 min");
  });

  it("has no badge when nothing is unread, and marks the business's own last message", () => {
    const grace = row(inbox(), GRACE.customerId);
    expect(byAttr(grace, "data-testid", "unread")).toHaveLength(0);
    expect(textOf(one(byAttr(grace, "data-testid", "record")))).toBe("Lead");
    expect(textOf(grace)).toContain("You: Of course, the quote is on its way.");
    // Earlier today: the time of day, in the user's pattern.
    expect(textOf(grace)).toContain("09:00");
  });

  it("names the linked record when the phone lookup found its name", () => {
    const named = { ...GRACE, record: { entity: "lead" as const, id: GRACE.record?.id ?? "", name: "Grace Hopper (Contoso)" } };
    const grace = row(inbox({ rows: [named] }), GRACE.customerId);
    expect(textOf(one(byAttr(grace, "data-testid", "record")))).toBe("Lead: Grace Hopper (Contoso)");
  });

  it("says No linked record, and shows the number when WhatsApp gave no name", () => {
    const newcomer = row(inbox(), NEWCOMER.customerId);
    expect(textOf(one(byAttr(newcomer, "data-testid", "record")))).toBe("No linked record");
    expect(newcomer.attrs["data-record"]).toBe("none");
    expect(textOf(newcomer)).toContain("+15551234567");
    expect(textOf(newcomer)).toContain("Yesterday");
  });

  it("shows a closed window and an older date", () => {
    const old = row(inbox(), OLD.customerId);
    expect(textOf(one(byAttr(old, "data-window", "closed")))).toBe("Window closed");
    expect(textOf(one(findAll(old, (e) => e.tag === "time")))).toBe("12/03/2026");
  });

  it("shows at most 99+ unread", () => {
    const many = render(<InboxView view={view({ rows: [{ ...ADA, unreadCount: 250 }] })} now={INBOX_NOW} />);
    expect(textOf(one(byAttr(many, "data-testid", "unread")))).toBe("99+");
  });

  it("makes initials from names, and the last two digits from numbers", () => {
    expect(initials("Ada Lovelace")).toBe("AL");
    expect(initials("Grace")).toBe("G");
    expect(initials("+15551234567")).toBe("67");
  });
});

describe("the inbox around the rows", () => {
  const buttons = (tree: ReturnType<typeof render>) => findAll(tree, (e) => e.tag === "button" && !("data-customer" in e.attrs)).map(textOf);

  it("has the three tabs, the current one selected", () => {
    const tabs = findAll(inbox({ state: "waiting" }), (e) => e.attrs.role === "tab");
    // Fluent keeps a hidden bold copy of an unselected tab's text (so selecting it does not shift the row).
    expect(tabs.map((tab) => textOf(tab).replace(/^(.+)\1$/, "$1"))).toEqual(["Waiting", "Open", "All"]);
    expect(tabs.map((t) => t.attrs["aria-selected"])).toEqual(["true", "false", "false"]);
  });

  it("offers Load more while the API has a next page, and not after", () => {
    expect(buttons(inbox({ next: "cursor-2" }))).toContain("Load more");
    expect(buttons(inbox({ next: "cursor-2", loadingMore: true }))).toContain("Loading…");
    expect(buttons(inbox({ next: null }))).not.toContain("Load more");
  });

  it("says why a tab is empty", () => {
    expect(textOf(one(byAttr(inbox({ rows: [], state: "waiting" }), "data-testid", "inbox-empty")))).toBe("No conversation is waiting for a reply.");
    expect(textOf(one(byAttr(inbox({ rows: [], state: "all" }), "data-testid", "inbox-empty")))).toBe("No WhatsApp conversations yet.");
  });

  it("shows the no-record notice with a Dismiss button", () => {
    const tree = inbox({ notice: "Sam Patel has no linked contact or lead yet." });
    expect(textOf(one(byAttr(tree, "data-testid", "inbox-notice")))).toContain("Sam Patel has no linked contact or lead yet.");
    expect(buttons(tree)).toContain("Dismiss");
  });

  it("explains a failure and offers Try again; asks the agent to sign in when Entra ID needs them", () => {
    const failed = inbox({ problem: new ApiError(503, "store_unavailable", "The message store is unavailable.") });
    expect(textOf(one(byAttr(failed, "data-testid", "inbox-problem")))).toContain("The message store is unavailable.");
    expect(buttons(failed)).toContain("Try again");
    const signIn = inbox({ problem: ApiError.client("sign_in_required", "interaction_required") });
    expect(textOf(one(byAttr(signIn, "data-testid", "inbox-problem")))).toContain("Sign in to see the WhatsApp inbox.");
    expect(buttons(signIn)).toContain("Sign in");
  });

  it("shows what setup is missing instead of the inbox", () => {
    const tree = inbox({ rows: [] }, { setupProblem: "set the control's own Entra ID client id." });
    expect(textOf(tree)).toContain("This inbox isn't configured yet.");
    expect(textOf(tree)).toContain("Ask your administrator: set the control's own Entra ID client id.");
    expect(byAttr(tree, "role", "tab")).toHaveLength(0);
  });

  it("renders in the dark theme", () => {
    expect(() => inbox({}, { theme: { tokenTheme: webDarkTheme, isDarkTheme: true } })).not.toThrow();
  });
});

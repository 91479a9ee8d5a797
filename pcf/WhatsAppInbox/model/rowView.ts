import type { InboxConversation } from "../api/contract";
import { type Clock, daysAgo, shortDate, timeOfDay } from "../../WhatsAppChat/model/clock";
import { localize } from "../strings/strings";

/** `15551234567` as `+15551234567` (WhatsApp ids are international numbers without the plus). */
export function displayNumber(customerId: string): string {
  return /^\d{7,15}$/.test(customerId) ? `+${customerId}` : customerId; // a WhatsApp user id, shown as is
}

/** Who the row is: the WhatsApp profile name, else the number. */
export function rowTitle(row: InboxConversation): string {
  const name = (row.profileName ?? "").trim();
  return name || displayNumber(row.customerId);
}

/** The linked record in words ("Contact: Ada Lovelace" when its name is known), or "No linked record". */
export function recordLabel(row: InboxConversation): string {
  if (!row.record) return localize("Inbox_NoRecord");
  const lead = row.record.entity === "lead";
  const name = (row.record.name ?? "").trim();
  if (name) return localize(lead ? "Inbox_LeadNamed" : "Inbox_ContactNamed", name);
  return localize(lead ? "Inbox_Lead" : "Inbox_Contact");
}

/** The last message's preview; the business's own are marked "You: ". */
export function previewText(row: InboxConversation): string {
  const preview = (row.lastMessage.preview ?? "").replace(/\s+/g, " ").trim() || localize("Inbox_NoPreview");
  return row.lastMessage.direction === "outbound" ? localize("Inbox_You", preview) : preview;
}

/**
 * When the last message came, as the D365 user reads times: "now", "5 min", then today's time ("2:05 PM",
 * "14:05"), "Yesterday", else the date, in their own time zone and patterns (context.userSettings).
 */
export function relativeTime(at: string, now: Date, clock: Clock = {}): string {
  const when = new Date(at);
  if (Number.isNaN(when.getTime())) return "";
  const minutes = Math.floor((now.getTime() - when.getTime()) / 60_000);
  if (minutes < 1) return localize("Time_Now");
  if (minutes < 60) return localize("Time_Minutes", minutes);
  switch (daysAgo(at, now, clock)) {
    case 0:
      return timeOfDay(at, clock);
    case 1:
      return localize("Time_Yesterday");
    default:
      return shortDate(at, clock);
  }
}

/** What a screen reader hears for the row's button. */
export function rowLabel(row: InboxConversation, now: Date, clock: Clock = {}): string {
  const parts = [rowTitle(row), recordLabel(row)];
  if (row.unreadCount > 0) parts.push(localize("Inbox_Unread", row.unreadCount));
  parts.push(localize(row.window.active ? "Inbox_WindowOpen" : "Inbox_WindowClosed"), previewText(row), relativeTime(row.lastMessage.at, now, clock));
  return parts.filter(Boolean).join(", ");
}

/** What picking a row does: open the linked record's form, or say there is none. */
export type PickOutcome = { open: { entityName: "contact" | "lead"; entityId: string } } | { noRecord: string };

export function pickOutcome(row: InboxConversation): PickOutcome {
  if (!row.record) return { noRecord: localize("Inbox_NoRecordNotice", rowTitle(row)) };
  return { open: { entityName: row.record.entity, entityId: row.record.id } };
}

import type { InboxConversation } from "../api/contract";
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

/** The linked record in words, or "No linked record". */
export function recordLabel(row: InboxConversation): string {
  if (!row.record) return localize("Inbox_NoRecord");
  return localize(row.record.entity === "lead" ? "Inbox_Lead" : "Inbox_Contact");
}

/** The last message's preview; the business's own are marked "You: ". */
export function previewText(row: InboxConversation): string {
  const preview = (row.lastMessage.preview ?? "").replace(/\s+/g, " ").trim() || localize("Inbox_NoPreview");
  return row.lastMessage.direction === "outbound" ? localize("Inbox_You", preview) : preview;
}

/** "now", "5 min", "3 h", "Yesterday", else a short date (this year: "12 Mar"; before: "12/03/2025"). */
export function relativeTime(at: string, now: Date, locale?: string): string {
  const when = new Date(at);
  if (Number.isNaN(when.getTime())) return "";
  const minutes = Math.floor((now.getTime() - when.getTime()) / 60_000);
  if (minutes < 1) return localize("Time_Now");
  if (minutes < 60) return localize("Time_Minutes", minutes);
  const startOfToday = new Date(now.getFullYear(), now.getMonth(), now.getDate()).getTime();
  if (when.getTime() >= startOfToday) return localize("Time_Hours", Math.floor(minutes / 60));
  if (when.getTime() >= startOfToday - 86_400_000) return localize("Time_Yesterday");
  const options: Intl.DateTimeFormatOptions =
    when.getFullYear() === now.getFullYear() ? { day: "numeric", month: "short" } : { day: "2-digit", month: "2-digit", year: "numeric" };
  return when.toLocaleDateString(locale, options);
}

/** What a screen reader hears for the row's button. */
export function rowLabel(row: InboxConversation, now: Date): string {
  const parts = [rowTitle(row), recordLabel(row)];
  if (row.unreadCount > 0) parts.push(localize("Inbox_Unread", row.unreadCount));
  parts.push(localize(row.window.active ? "Inbox_WindowOpen" : "Inbox_WindowClosed"), previewText(row), relativeTime(row.lastMessage.at, now));
  return parts.filter(Boolean).join(", ");
}

/** What picking a row does: open the linked record's form, or say there is none. */
export type PickOutcome = { open: { entityName: "contact" | "lead"; entityId: string } } | { noRecord: string };

export function pickOutcome(row: InboxConversation): PickOutcome {
  if (!row.record) return { noRecord: localize("Inbox_NoRecordNotice", rowTitle(row)) };
  return { open: { entityName: row.record.entity, entityId: row.record.id } };
}

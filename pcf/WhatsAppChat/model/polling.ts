import type { MessagesPage } from "../api/contract";
import type { Timeline } from "./timeline";

/**
 * A full poll page with none of the messages already held means more arrived since the last poll than
 * the page holds: the messages between would be missing, so a bigger page is due.
 */
export function pollMissedMessages(held: Timeline, page: MessagesPage, pollSize: number): boolean {
  if (held.length === 0 || page.messages.length < pollSize || page.next === null) return false;
  const heldIds = new Set(held.map((message) => message.id));
  return !page.messages.some((message) => heldIds.has(message.id));
}

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

/** How long the panel polls at its own pace after the last thing that happened (ms). */
export const IDLE_AFTER_MS = 120_000;
/** The slowest a visible panel polls, once nothing has happened for a while (ms). */
export const SLOWEST_POLL_MS = 30_000;

/**
 * The wait before the next poll: the configured interval (5 s by default) while something happens
 * (a message, a tick, the agent typing or sending, the panel coming into view); after two idle
 * minutes it doubles every 30 s, up to 30 s. An interval set slower than 30 s stays as set.
 */
export function pollDelay(intervalMs: number, idleMs: number): number {
  if (idleMs < IDLE_AFTER_MS || intervalMs >= SLOWEST_POLL_MS) return intervalMs;
  const doublings = 1 + Math.floor((idleMs - IDLE_AFTER_MS) / 30_000);
  return Math.min(SLOWEST_POLL_MS, intervalMs * 2 ** Math.min(doublings, 10));
}

/** At most this many pages in a row when the API says more changes wait (`next` on a poll). */
export const CATCH_UP_PAGES = 20;

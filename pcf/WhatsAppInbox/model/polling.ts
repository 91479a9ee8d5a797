/**
 * When the inbox asks again. Like the chat panel it polls only while it is on screen and polls at once
 * when it comes back into view (or the window gets focus); unlike the panel it backs off while nothing
 * changes: each quiet poll doubles the wait, up to {@link MAX_BACKOFF} times the interval, and any
 * change (or the agent doing something) brings it back to the interval.
 */
export const MAX_BACKOFF = 8;

/** The wait before the next poll after `quietPolls` polls in a row that changed nothing. */
export function nextPollDelay(intervalMs: number, quietPolls: number): number {
  const factor = Math.min(MAX_BACKOFF, 2 ** Math.max(0, quietPolls));
  return intervalMs * factor;
}

/** What a row shows, as one string: a poll whose rows all read the same changed nothing. */
export function inboxFingerprint(rows: readonly { customerId: string; lastMessage: { at: string; preview: string | null }; unreadCount: number; window: { active: boolean }; record: unknown }[]): string {
  return rows.map((row) => [row.customerId, row.lastMessage.at, row.lastMessage.preview, row.unreadCount, row.window.active, JSON.stringify(row.record)].join("|")).join("\n");
}

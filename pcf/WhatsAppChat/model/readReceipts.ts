import type { SessionStatus } from "../api/contract";
import type { Timeline } from "./timeline";

/** WhatsApp's typing indicator lasts up to 25 s; the API sends one per 20 s per conversation at most, and so does the panel. */
export const TYPING_EVERY_MS = 20_000;

/**
 * The customer's newest message when the agent side has not read it yet (newer than the session's
 * `agentReadAt`, or never read): the one a read receipt is for.
 */
export function unreadInbound(timeline: Timeline, session: SessionStatus | undefined): { id: string; timestamp: string } | undefined {
  const newest = timeline.find((message) => message.direction === "inbound");
  if (!newest) return undefined;
  const readAt = session?.agentReadAt ? Date.parse(session.agentReadAt) : Number.NaN;
  const at = Date.parse(newest.timestamp);
  return Number.isNaN(readAt) || Number.isNaN(at) || at > readAt ? { id: newest.id, timestamp: newest.timestamp } : undefined;
}

/** Whether a typing indicator may go now: none went in the last 20 s. */
export function typingDue(lastSentAt: number | undefined, now: number): boolean {
  return lastSentAt === undefined || now - lastSentAt >= TYPING_EVERY_MS;
}

import type { SessionStatus } from "../api/contract";
import type { Timeline } from "./timeline";
import { lastInboundAt } from "./timeline";
import { localize } from "../strings/strings";

/** The seed's validation message, shown instead of the composer while the window is closed. */
export function windowClosedMessage(): string {
  return localize("Window_Closed");
}

/** The customer-service window: free-form replies only within 24 hours of the customer's last message. */
export type ReplyWindow =
  | { state: "unknown" }
  | { state: "open"; closesAt: Date | undefined }
  | { state: "closed"; lastInboundAt: Date | undefined };

function date(iso: string | null | undefined): Date | undefined {
  if (!iso) return undefined;
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

/** The window now. The API's answer can be minutes old, so an `expiresAt` that has passed means closed. */
export function replyWindow(session: SessionStatus | undefined, now: Date): ReplyWindow {
  if (!session) return { state: "unknown" };
  const closesAt = date(session.expiresAt);
  if (session.active && (!closesAt || closesAt > now)) return { state: "open", closesAt };
  return { state: "closed", lastInboundAt: date(session.lastInboundAt) };
}

/** The composer shows only while the agent may reply. */
export function canReply(window: ReplyWindow): boolean {
  return window.state === "open";
}

/**
 * Whether the session should be asked again: the history shows a customer message newer than the one
 * the session knows (the customer wrote, so the window opened or moved).
 */
export function sessionIsBehind(session: SessionStatus | undefined, timeline: Timeline): boolean {
  const newestInbound = date(lastInboundAt(timeline));
  if (!newestInbound) return false;
  const known = date(session?.lastInboundAt);
  return !known || newestInbound > known;
}


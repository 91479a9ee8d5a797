import type { ChatMessage, MessageStatus } from "../api/contract";
import { keepStillValidMediaUrl } from "./mediaUrl";

/**
 * The conversation as the panel holds it: newest first, as the API pages it. The API orders messages
 * written in the same second by a sequence it does not return, so the order inside a page is the
 * truth, and merging keeps it.
 */
export type Timeline = readonly ChatMessage[];

/** Where a page sits: the latest messages (first load, a poll, a refresh) or older ones (before a cursor). */
export type PagePosition = "latest" | "older";

// Mirrors the API's rule: statuses only move forward; `failed` ends a message that was only accepted or
// sent; `received` is an inbound message's only status.
const RANK: Partial<Record<MessageStatus, number>> = { accepted: 0, sent: 1, delivered: 2, read: 3, played: 4 };

function seconds(message: ChatMessage): number {
  const at = Date.parse(message.timestamp);
  return Number.isNaN(at) ? 0 : Math.floor(at / 1000);
}

/** The fresher of two copies of one message; answers can arrive out of order (a poll racing a send). */
export function fresherCopy(held: ChatMessage, incoming: ChatMessage, now: Date): ChatMessage {
  const heldRank = RANK[held.status];
  const incomingRank = RANK[incoming.status];
  let winner = incoming;
  if (held.status === "failed" && incoming.status !== "failed") winner = held;
  else if (incoming.status === "failed" && heldRank !== undefined && heldRank >= 2) winner = held;
  else if (heldRank !== undefined && incomingRank !== undefined && incomingRank < heldRank) winner = held;
  const media = keepStillValidMediaUrl(held.media, winner.media, now);
  return media === winner.media ? winner : { ...winner, media };
}

function newestFirst(messages: ChatMessage[]): ChatMessage[] {
  // Array.prototype.sort is stable: messages of the same second keep the order they were given in.
  return messages.sort((a, b) => seconds(b) - seconds(a));
}

/**
 * The timeline with a page of the API's answer merged in, one entry per id. A "latest" page is the
 * newest run of the conversation, so a held message of the same second that it does not contain is
 * older; an "older" page is the run just before what is held.
 */
export function mergePage(held: Timeline, page: readonly ChatMessage[], position: PagePosition, now: Date): ChatMessage[] {
  const byId = new Map(held.map((message) => [message.id, message]));
  const pageIds = new Set(page.map((message) => message.id));
  const pageCopies = page.map((message) => {
    const previous = byId.get(message.id);
    return previous ? fresherCopy(previous, message, now) : message;
  });
  const rest = held.filter((message) => !pageIds.has(message.id));
  return newestFirst(position === "latest" ? [...pageCopies, ...rest] : [...rest, ...pageCopies]);
}

/** The timeline with one message the API just answered (a send) in it: the newest of its second. */
export function upsertMessage(held: Timeline, message: ChatMessage, now: Date): ChatMessage[] {
  return mergePage(held, [message], "latest", now);
}

/** Oldest first: how the chat reads, top to bottom. */
export function readingOrder(timeline: Timeline): ChatMessage[] {
  return [...timeline].reverse();
}

/** The newest inbound message's time: when it moves, the 24-hour window moved too. */
export function lastInboundAt(timeline: Timeline): string | undefined {
  return timeline.find((message) => message.direction === "inbound")?.timestamp;
}

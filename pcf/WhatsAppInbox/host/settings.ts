import { INBOX_STATES, type InboxState } from "../api/contract";
import { localize } from "../strings/strings";
import { type Connection, LOCAL_API, type RawConnection, readConnection, text, within } from "../../WhatsAppChat/host/connection";

/** The inbox's input properties as the host passes them (null when not set). */
export interface RawInboxProperties extends RawConnection {
  defaultState: string | null;
  pollSeconds: number | null;
  inboxHeight: number | null;
}

interface ListSettings {
  defaultState: InboxState;
  pollIntervalMs: number;
  height: number;
}

export type InboxSettings = Connection & ListSettings;

export { LOCAL_API };
export const DEFAULT_POLL_SECONDS = 15;
export const DEFAULT_HEIGHT = 600;

/** The settings, or what is missing, in words for whoever configures the page (in the user's language). */
export function readInboxSettings(raw: RawInboxProperties): { settings: InboxSettings } | { problem: string } {
  const read = readConnection(raw);
  if ("missing" in read) return { problem: localize(read.missing) };
  const state = text(raw.defaultState).toLowerCase();
  const list: ListSettings = {
    defaultState: (INBOX_STATES as readonly string[]).includes(state) ? (state as InboxState) : "waiting",
    pollIntervalMs: within(raw.pollSeconds, DEFAULT_POLL_SECONDS, 5, 120) * 1000,
    height: within(raw.inboxHeight, DEFAULT_HEIGHT, 240, 2000),
  };
  return { settings: { ...read.connection, ...list } };
}

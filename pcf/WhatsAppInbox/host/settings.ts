import { INBOX_STATES, type InboxState } from "../api/contract";
import { type InboxStringKey, localize } from "../strings/strings";

/** The inbox's input properties as the host passes them (null when not set). */
export interface RawInboxProperties {
  apiBaseUrl: string | null;
  apiApplicationId: string | null;
  clientId: string | null;
  tenantId: string | null;
  redirectUri: string | null;
  businessPhoneNumberId: string | null;
  defaultState: string | null;
  pollSeconds: number | null;
  inboxHeight: number | null;
  devMode: string | null;
}

interface Common {
  apiBaseUrl: string;
  phoneNumberId?: string;
  defaultState: InboxState;
  pollIntervalMs: number;
  height: number;
}

export type InboxSettings =
  | (Common & { mode: "dev" })
  | (Common & { mode: "signed-in"; apiAudience: string; clientId: string; tenant: string; redirectUri?: string });

export const LOCAL_API = "http://127.0.0.1:7071/api";
export const DEFAULT_POLL_SECONDS = 15;
export const DEFAULT_HEIGHT = 600;
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

const text = (value: string | null): string => (value ?? "").trim();

/** What is missing, in words for whoever configures the page (in the user's language). */
const problem = (what: InboxStringKey): { problem: string } => ({ problem: localize(what) });

function within(value: number | null, fallback: number, lowest: number, highest: number): number {
  if (value === null || !Number.isFinite(value) || value <= 0) return fallback;
  return Math.min(highest, Math.max(lowest, Math.round(value)));
}

/** The settings, or what is missing, in words for whoever configures the page. */
export function readInboxSettings(raw: RawInboxProperties): { settings: InboxSettings } | { problem: string } {
  const devText = text(raw.devMode).toLowerCase();
  const dev = devText === "on" || devText === "true";
  const apiBaseUrl = text(raw.apiBaseUrl) || (dev ? LOCAL_API : "");
  let url: URL;
  try {
    url = new URL(apiBaseUrl);
  } catch {
    return problem("Setup_ApiBaseUrlMissing");
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && LOOPBACK.has(url.hostname))) {
    return problem("Setup_ApiBaseUrlHttps");
  }
  const phoneNumberId = text(raw.businessPhoneNumberId);
  if (phoneNumberId && !/^\d+$/.test(phoneNumberId)) return problem("Setup_PhoneNumberId");
  const state = text(raw.defaultState).toLowerCase();
  const common: Common = {
    apiBaseUrl,
    phoneNumberId: phoneNumberId || undefined,
    defaultState: (INBOX_STATES as readonly string[]).includes(state) ? (state as InboxState) : "waiting",
    pollIntervalMs: within(raw.pollSeconds, DEFAULT_POLL_SECONDS, 5, 120) * 1000,
    height: within(raw.inboxHeight, DEFAULT_HEIGHT, 240, 2000),
  };
  if (dev) return { settings: { ...common, mode: "dev" } };
  const apiAudience = text(raw.apiApplicationId);
  const clientId = text(raw.clientId);
  if (!apiAudience) return problem("Setup_ApiApplicationId");
  if (!clientId) return problem("Setup_ClientId");
  const redirectUri = text(raw.redirectUri);
  if (redirectUri && !/^https:\/\/[^\s/]+/i.test(redirectUri)) return problem("Setup_RedirectUri");
  return { settings: { ...common, mode: "signed-in", apiAudience, clientId, tenant: text(raw.tenantId) || "organizations", redirectUri: redirectUri || undefined } };
}

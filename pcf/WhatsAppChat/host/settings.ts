import type { AgentNotice } from "../model/problemWording";
import { type StringKey, localize } from "../strings/strings";

/** The control's input properties as the form passes them (null when not set). */
export interface RawProperties {
  apiBaseUrl: string | null;
  apiApplicationId: string | null;
  clientId: string | null;
  tenantId: string | null;
  redirectUri: string | null;
  businessPhoneNumberId: string | null;
  pollSeconds: number | null;
  panelHeight: number | null;
  devMode: string | null;
}

interface CommonSettings {
  apiBaseUrl: string;
  phoneNumberId?: string;
  pollIntervalMs: number;
  panelHeight: number;
}

/** Dev mode talks to `make run`, which runs without sign-in; otherwise the agent signs in with Entra ID. */
export type ControlSettings =
  | (CommonSettings & { mode: "dev" })
  | (CommonSettings & { mode: "signed-in"; apiAudience: string; clientId: string; tenant: string; redirectUri?: string });

export const LOCAL_API = "http://127.0.0.1:7071/api";
export const DEFAULT_POLL_SECONDS = 5;
export const DEFAULT_PANEL_HEIGHT = 560;
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

function text(value: string | null): string {
  return (value ?? "").trim();
}

function within(value: number | null, fallback: number, lowest: number, highest: number): number {
  if (value === null || !Number.isFinite(value) || value <= 0) return fallback;
  return Math.min(highest, Math.max(lowest, Math.round(value)));
}

/** What is missing, in words for whoever configures the form (read when asked: the words follow the user's language). */
function setupProblem(what: StringKey): { problem: AgentNotice } {
  return { problem: { intent: "error", title: localize("Setup_Title"), detail: localize("Setup_Detail", localize(what)), code: "setup_incomplete" } };
}

/** The settings, or what is missing, in words for whoever configures the form. */
export function readSettings(raw: RawProperties): { settings: ControlSettings } | { problem: AgentNotice } {
  const dev = text(raw.devMode).toLowerCase() === "on" || text(raw.devMode).toLowerCase() === "true";
  const apiBaseUrl = text(raw.apiBaseUrl) || (dev ? LOCAL_API : "");
  let url: URL;
  try {
    url = new URL(apiBaseUrl);
  } catch {
    return setupProblem("Setup_ApiBaseUrlMissing");
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && LOOPBACK.has(url.hostname))) {
    return setupProblem("Setup_ApiBaseUrlHttps");
  }
  const phoneNumberId = text(raw.businessPhoneNumberId);
  if (phoneNumberId && !/^\d+$/.test(phoneNumberId)) {
    return setupProblem("Setup_PhoneNumberId");
  }
  const common: CommonSettings = {
    apiBaseUrl,
    phoneNumberId: phoneNumberId || undefined,
    pollIntervalMs: within(raw.pollSeconds, DEFAULT_POLL_SECONDS, 2, 60) * 1000,
    panelHeight: within(raw.panelHeight, DEFAULT_PANEL_HEIGHT, 320, 2000),
  };
  if (dev) return { settings: { ...common, mode: "dev" } };
  const apiAudience = text(raw.apiApplicationId);
  const clientId = text(raw.clientId);
  if (!apiAudience) return setupProblem("Setup_ApiApplicationId");
  if (!clientId) return setupProblem("Setup_ClientId");
  const redirectUri = text(raw.redirectUri);
  if (redirectUri && !/^https:\/\/[^\s/]+/i.test(redirectUri)) return setupProblem("Setup_RedirectUri");
  return {
    settings: { ...common, mode: "signed-in", apiAudience, clientId, tenant: text(raw.tenantId) || "organizations", redirectUri: redirectUri || undefined },
  };
}

/** One key per distinct configuration: the API client and sign-in are made again only when it changes. */
export function settingsKey(settings: ControlSettings): string {
  return JSON.stringify(settings);
}

import type { AgentNotice } from "../model/problemWording";

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

function setupProblem(detail: string): { problem: AgentNotice } {
  return { problem: { intent: "error", title: "This chat panel isn't configured yet.", detail: `Ask your administrator: ${detail}`, code: "setup_incomplete" } };
}

/** The settings, or what is missing, in words for whoever configures the form. */
export function readSettings(raw: RawProperties): { settings: ControlSettings } | { problem: AgentNotice } {
  const dev = text(raw.devMode).toLowerCase() === "on" || text(raw.devMode).toLowerCase() === "true";
  const apiBaseUrl = text(raw.apiBaseUrl) || (dev ? LOCAL_API : "");
  let url: URL;
  try {
    url = new URL(apiBaseUrl);
  } catch {
    return setupProblem("the API base URL is missing or is not a full URL (https://<function app>.azurewebsites.net/api).");
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && LOOPBACK.has(url.hostname))) {
    return setupProblem("the API base URL must start with https://.");
  }
  const phoneNumberId = text(raw.businessPhoneNumberId);
  if (phoneNumberId && !/^\d+$/.test(phoneNumberId)) {
    return setupProblem("the business phone number id is Meta's numeric id, not the phone number.");
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
  if (!apiAudience) return setupProblem("set the API's Entra ID application id (the audience of its tokens).");
  if (!clientId) return setupProblem("set the control's own Entra ID client id (its single-page app registration).");
  const redirectUri = text(raw.redirectUri);
  if (redirectUri && !/^https:\/\/[^\s/]+/i.test(redirectUri)) return setupProblem("the sign-in redirect URI must be an https:// address.");
  return {
    settings: { ...common, mode: "signed-in", apiAudience, clientId, tenant: text(raw.tenantId) || "organizations", redirectUri: redirectUri || undefined },
  };
}

/** One key per distinct configuration: the API client and sign-in are made again only when it changes. */
export function settingsKey(settings: ControlSettings): string {
  return JSON.stringify(settings);
}

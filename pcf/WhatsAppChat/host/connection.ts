/**
 * Where a control reaches the API and how it signs in: the part of the settings both controls (the
 * chat panel and the inbox) read the same way, checked the same way. Each control adds its own
 * (poll interval, height, the inbox's tab) and words a problem in its own strings.
 */

/** The connection's input properties as the host passes them (null when not set). */
export interface RawConnection {
  apiBaseUrl: string | null;
  apiApplicationId: string | null;
  clientId: string | null;
  tenantId: string | null;
  redirectUri: string | null;
  businessPhoneNumberId: string | null;
  devMode: string | null;
}

interface Where {
  apiBaseUrl: string;
  phoneNumberId?: string;
}

/** Dev mode talks to `make run`, which runs without sign-in; otherwise the agent signs in with Entra ID. */
export type Connection =
  | (Where & { mode: "dev" })
  | (Where & { mode: "signed-in"; apiAudience: string; clientId: string; tenant: string; redirectUri?: string });

/** The strings key (the same in both controls) naming what is missing or wrong. */
export type ConnectionProblem =
  | "Setup_ApiBaseUrlMissing"
  | "Setup_ApiBaseUrlHttps"
  | "Setup_PhoneNumberId"
  | "Setup_ApiApplicationId"
  | "Setup_ClientId"
  | "Setup_RedirectUri";

export const LOCAL_API = "http://127.0.0.1:7071/api";
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

export const text = (value: string | null): string => (value ?? "").trim();

/** A whole number within bounds; the fallback when not set (or not a positive number). */
export function within(value: number | null, fallback: number, lowest: number, highest: number): number {
  if (value === null || !Number.isFinite(value) || value <= 0) return fallback;
  return Math.min(highest, Math.max(lowest, Math.round(value)));
}

/** The connection, or the key of what is missing: https only (http on this machine's loopback), a
 * numeric business number id, and the sign-in's ids unless in dev mode. */
export function readConnection(raw: RawConnection): { connection: Connection } | { missing: ConnectionProblem } {
  const devText = text(raw.devMode).toLowerCase();
  const dev = devText === "on" || devText === "true";
  const apiBaseUrl = text(raw.apiBaseUrl) || (dev ? LOCAL_API : "");
  let url: URL;
  try {
    url = new URL(apiBaseUrl);
  } catch {
    return { missing: "Setup_ApiBaseUrlMissing" };
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && LOOPBACK.has(url.hostname))) {
    return { missing: "Setup_ApiBaseUrlHttps" };
  }
  const phoneNumberId = text(raw.businessPhoneNumberId);
  if (phoneNumberId && !/^\d+$/.test(phoneNumberId)) return { missing: "Setup_PhoneNumberId" };
  const where: Where = { apiBaseUrl, phoneNumberId: phoneNumberId || undefined };
  if (dev) return { connection: { ...where, mode: "dev" } };
  const apiAudience = text(raw.apiApplicationId);
  const clientId = text(raw.clientId);
  if (!apiAudience) return { missing: "Setup_ApiApplicationId" };
  if (!clientId) return { missing: "Setup_ClientId" };
  const redirectUri = text(raw.redirectUri);
  if (redirectUri && !/^https:\/\/[^\s/]+/i.test(redirectUri)) return { missing: "Setup_RedirectUri" };
  const tenant = text(raw.tenantId) || "organizations";
  return { connection: { ...where, mode: "signed-in", apiAudience, clientId, tenant, redirectUri: redirectUri || undefined } };
}

import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { type RawInboxProperties, readInboxSettings } from "../../WhatsAppInbox/host/settings";
import { loadInboxStrings, localize } from "../../WhatsAppInbox/strings/strings";
import { relativeTime } from "../../WhatsAppInbox/model/rowView";
import { clockFromUserSettings } from "../../WhatsAppChat/host/userClock";
import { readResx } from "./resx";
import { INBOX_NOW } from "./inboxFixtures";

const raw = (overrides: Partial<RawInboxProperties>): RawInboxProperties => ({
  apiBaseUrl: null,
  apiApplicationId: null,
  clientId: null,
  tenantId: null,
  redirectUri: null,
  businessPhoneNumberId: null,
  defaultState: null,
  pollSeconds: null,
  inboxHeight: null,
  devMode: null,
  ...overrides,
});

describe("the inbox's properties", () => {
  it("dev mode: the local app, no sign-in, Waiting first and every 15 s by default", () => {
    expect(readInboxSettings(raw({ devMode: "on" }))).toEqual({
      settings: { mode: "dev", apiBaseUrl: "http://127.0.0.1:7071/api", phoneNumberId: undefined, defaultState: "waiting", pollIntervalMs: 15_000, height: 600 },
    });
  });

  it("signed in: needs the API's application id and the control's client id, like the chat panel", () => {
    expect(readInboxSettings(raw({ apiBaseUrl: "https://app.azurewebsites.net/api" }))).toEqual({ problem: expect.stringContaining("application id") as string });
    const read = readInboxSettings(raw({ apiBaseUrl: "https://app.azurewebsites.net/api", apiApplicationId: "api-id", clientId: "client-id", defaultState: "all", pollSeconds: 1 }));
    expect(read).toMatchObject({ settings: { mode: "signed-in", apiAudience: "api-id", clientId: "client-id", tenant: "organizations", defaultState: "all", pollIntervalMs: 5_000 } });
  });

  it("refuses a plain http API outside this machine and a phone number for the number id", () => {
    expect(readInboxSettings(raw({ apiBaseUrl: "http://app.example.com/api", devMode: "on" }))).toEqual({ problem: "the API base URL must start with https://." });
    expect(readInboxSettings(raw({ devMode: "on", businessPhoneNumberId: "+1 555 0100" }))).toMatchObject({ problem: expect.stringContaining("numeric id") as string });
  });
});

// The strings files themselves (both languages, the manifest's keys): strings.test.ts.
describe("the inbox's words", () => {
  it("reads the platform's translation when it has one", () => {
    loadInboxStrings((key) => (key === "Inbox_NoRecord" ? "Kein verknüpfter Datensatz" : key));
    expect(localize("Inbox_NoRecord")).toBe("Kein verknüpfter Datensatz");
    expect(localize("State_All")).toBe("All");
    loadInboxStrings(undefined);
  });

  it("says when: now, minutes, then today's time, yesterday, a date, in the user's zone and patterns", () => {
    const ago = (ms: number) => new Date(INBOX_NOW.getTime() - ms).toISOString();
    // A user in New York (UTC-4 in late March) who writes dates M/d/yyyy and times h:mm tt.
    const clock = clockFromUserSettings({
      languageId: 1033,
      getTimeZoneOffsetMinutes: () => -240,
      dateFormattingInfo: { shortDatePattern: "M/d/yyyy", shortTimePattern: "h:mm tt" },
    });
    expect(relativeTime(ago(20_000), INBOX_NOW, clock)).toBe("now");
    expect(relativeTime(ago(5 * 60_000), INBOX_NOW, clock)).toBe("5 min");
    expect(relativeTime(ago(3 * 3_600_000), INBOX_NOW, clock)).toBe("5:00 AM");
    // 03:00 UTC on the 30th is still the 29th in New York.
    expect(relativeTime("2026-03-30T03:00:00Z", INBOX_NOW, clock)).toBe("Yesterday");
    expect(relativeTime("2026-03-12T08:00:00Z", INBOX_NOW, clock)).toBe("3/12/2026");
    expect(relativeTime("2025-12-01T08:00:00Z", INBOX_NOW, clock)).toBe("12/1/2025");
  });

  it("in German for a German user: dd.MM.yyyy, HH:mm, Gestern", () => {
    const german = readResx(path.resolve(__dirname, "../../WhatsAppInbox/strings/WhatsAppInbox.1031.resx"));
    loadInboxStrings((key) => german.get(key) ?? key);
    const clock = clockFromUserSettings({ languageId: 1031, getTimeZoneOffsetMinutes: () => 120, dateFormattingInfo: { shortDatePattern: "dd.MM.yyyy", shortTimePattern: "HH:mm" } });
    expect(relativeTime("2026-03-30T09:00:00Z", INBOX_NOW, clock)).toBe("11:00");
    expect(relativeTime("2026-03-29T09:00:00Z", INBOX_NOW, clock)).toBe("Gestern");
    expect(relativeTime("2026-03-12T08:00:00Z", INBOX_NOW, clock)).toBe("12.03.2026");
    expect(relativeTime(new Date(INBOX_NOW.getTime() - 20_000).toISOString(), INBOX_NOW, clock)).toBe("jetzt");
    loadInboxStrings(undefined);
  });
});

describe("the inbox's manifest", () => {
  const manifest = readFileSync(path.resolve(__dirname, "../../WhatsAppInbox/ControlManifest.Input.xml"), "utf8");

  it("is a standard (virtual, React) control with no dataset and no bound column", () => {
    expect(manifest).toContain('constructor="WhatsAppInbox"');
    expect(manifest).toContain('control-type="virtual"');
    expect(manifest).not.toContain("<data-set");
    expect(manifest).not.toContain('usage="bound"');
  });

  it("names the same external services as the chat panel", () => {
    const usage = /<external-service-usage enabled="true">([\s\S]*?)<\/external-service-usage>/.exec(manifest)?.[1] ?? "";
    expect([...usage.matchAll(/<domain>([^<]+)<\/domain>/g)].map((m) => m[1])).toEqual(["azurewebsites.net", "login.microsoftonline.com"]);
  });
});

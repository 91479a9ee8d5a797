import { describe, expect, it } from "vitest";
import { clockFromUserSettings, dayLabel, remaining, startsNewDay, timeOfDay, whenSaid } from "../../WhatsAppChat/model/time";
import { NOW } from "./fixtures";

const utc = { locale: "en-GB", timeZone: "UTC" };

describe("times as the agent reads them", () => {
  it("shows a message's time of day", () => {
    expect(timeOfDay("2026-03-02T09:05:00Z", utc)).toBe("09:05");
    expect(timeOfDay("2026-03-02T09:05:00Z", { locale: "en-GB", timeZone: "Asia/Kolkata" })).toBe("14:35");
  });

  it("separates days as Today, Yesterday, then dates", () => {
    expect(dayLabel("2026-03-02T01:00:00Z", NOW, utc)).toBe("Today");
    expect(dayLabel("2026-03-01T23:00:00Z", NOW, utc)).toBe("Yesterday");
    expect(dayLabel("2026-02-20T10:00:00Z", NOW, utc)).toBe("20 February 2026");
    expect(startsNewDay(undefined, "2026-03-02T01:00:00Z", utc)).toBe(true);
    expect(startsNewDay("2026-03-02T01:00:00Z", "2026-03-02T23:00:00Z", utc)).toBe(false);
    expect(startsNewDay("2026-03-01T23:00:00Z", "2026-03-02T01:00:00Z", utc)).toBe(true);
  });

  it("says when the customer last wrote", () => {
    expect(whenSaid("2026-03-02T09:05:00Z", NOW, utc)).toBe("today at 09:05");
    expect(whenSaid("2026-03-01T09:05:00Z", NOW, utc)).toBe("yesterday at 09:05");
    expect(whenSaid("2026-02-20T09:05:00Z", NOW, utc)).toBe("on 20 February 2026 at 09:05");
  });

  it("says how long the window stays open", () => {
    expect(remaining(NOW, new Date("2026-03-03T09:00:00Z"))).toBe("21 h");
    expect(remaining(NOW, new Date("2026-03-02T13:30:00Z"))).toBe("1 h 30 min");
    expect(remaining(NOW, new Date("2026-03-02T12:45:00Z"))).toBe("45 min");
    expect(remaining(NOW, new Date("2026-03-02T11:00:00Z"))).toBe("0 min");
  });
});

describe("times in the D365 user's own time zone and format", () => {
  // 2026-03-02 23:30 UTC: already 3 March for a user at UTC+2, still 2 March in UTC.
  const late = "2026-03-02T23:30:00Z";
  const now = new Date("2026-03-03T08:00:00Z");

  it("reads the offset and the time format from context.userSettings, not the browser", () => {
    const clock = clockFromUserSettings({ getTimeZoneOffsetMinutes: () => 120, dateFormattingInfo: { shortTimePattern: "HH:mm" } }, "en-GB");
    expect(timeOfDay(late, clock)).toBe("01:30");
    expect(dayLabel(late, now, clock)).toBe("Today");
    expect(startsNewDay("2026-03-02T21:00:00Z", late, clock)).toBe(true);
  });

  it("a 12-hour format gives a 12-hour clock", () => {
    const clock = clockFromUserSettings({ getTimeZoneOffsetMinutes: () => -300, dateFormattingInfo: { shortTimePattern: "h:mm tt" } }, "en-US");
    expect(timeOfDay(late, clock)).toMatch(/^06:30\s?PM$/i);
    expect(dayLabel(late, now, clock)).toBe("Yesterday");
  });

  it("asks the offset for each moment (summer time differs from winter)", () => {
    const asked: string[] = [];
    const clock = clockFromUserSettings({ getTimeZoneOffsetMinutes: (at?: Date) => (asked.push(at?.toISOString() ?? ""), at && at.getUTCMonth() >= 3 ? 60 : 0) }, "en-GB");
    expect(timeOfDay("2026-01-10T12:00:00Z", clock)).toBe("12:00");
    expect(timeOfDay("2026-07-10T12:00:00Z", clock)).toBe("13:00");
    expect(asked).toContain("2026-07-10T12:00:00.000Z");
  });

  it("without user settings, keeps the browser's clock", () => {
    expect(clockFromUserSettings(undefined)).toEqual({ locale: undefined });
  });
});

import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { fullMoment, shortDate, timeOfDay } from "../../WhatsAppChat/model/clock";
import { dayLabel, remaining, startsNewDay, whenSaid } from "../../WhatsAppChat/model/time";
import { clockFromUserSettings } from "../../WhatsAppChat/host/userClock";
import { loadStrings } from "../../WhatsAppChat/strings/strings";
import { readResx } from "./resx";
import { NOW } from "./fixtures";

const utc = { locale: "en-GB", timeZone: "UTC" };

// What D365 passes for a user in the US and one in Germany (context.userSettings).
const US_USER = {
  languageId: 1033,
  getTimeZoneOffsetMinutes: () => -300,
  dateFormattingInfo: { shortDatePattern: "M/d/yyyy", shortTimePattern: "h:mm tt", longTimePattern: "h:mm:ss tt", dateSeparator: "/", timeSeparator: ":", amDesignator: "AM", pmDesignator: "PM" },
};
const GERMAN_USER = {
  languageId: 1031,
  getTimeZoneOffsetMinutes: () => 60,
  dateFormattingInfo: { shortDatePattern: "dd.MM.yyyy", shortTimePattern: "HH:mm", longTimePattern: "HH:mm:ss", dateSeparator: ".", timeSeparator: ":", amDesignator: "", pmDesignator: "" },
};

describe("times as the agent reads them, without D365's settings (the browser's)", () => {
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

describe("times in the D365 user's own time zone and patterns", () => {
  // 2026-03-02 23:30 UTC: already 3 March for a user at UTC+1, still 2 March at UTC-5.
  const late = "2026-03-02T23:30:00Z";
  const now = new Date("2026-03-03T08:00:00Z");
  afterEach(() => loadStrings(undefined));

  it("a US user: M/d/yyyy and h:mm tt at UTC-5", () => {
    const clock = clockFromUserSettings(US_USER);
    expect(timeOfDay(late, clock)).toBe("6:30 PM");
    expect(dayLabel(late, now, clock)).toBe("Yesterday");
    expect(dayLabel("2026-02-20T15:00:00Z", now, clock)).toBe("2/20/2026");
    expect(whenSaid("2026-02-20T15:00:00Z", now, clock)).toBe("on 2/20/2026 at 10:00 AM");
    expect(fullMoment(late, clock)).toBe("3/2/2026 6:30:00 PM");
  });

  it("a German user: dd.MM.yyyy and HH:mm at UTC+1, in German words from the strings file", () => {
    const german = readResx(path.resolve(__dirname, "../../WhatsAppChat/strings/WhatsAppChat.1031.resx"));
    loadStrings((key) => german.get(key) ?? key);
    const clock = clockFromUserSettings(GERMAN_USER);
    expect(clock.locale).toBe("de-DE");
    expect(timeOfDay(late, clock)).toBe("00:30");
    expect(dayLabel(late, now, clock)).toBe("Heute");
    expect(dayLabel("2026-03-02T10:00:00Z", now, clock)).toBe("Gestern");
    expect(dayLabel("2026-03-01T22:00:00Z", now, clock)).toBe("01.03.2026");
    expect(dayLabel("2026-02-20T10:00:00Z", now, clock)).toBe("20.02.2026");
    expect(whenSaid("2026-02-20T10:00:00Z", now, clock)).toBe("am 20.02.2026 um 11:00");
    expect(whenSaid(late, now, clock)).toBe("heute um 00:30");
    expect(remaining(now, new Date("2026-03-03T09:30:00Z"))).toBe("1 Std. 30 Min.");
    expect(startsNewDay("2026-03-02T21:00:00Z", late, clock)).toBe(true);
  });

  it("a Japanese user's yyyy/MM/dd", () => {
    const clock = clockFromUserSettings({ languageId: 1041, getTimeZoneOffsetMinutes: () => 540, dateFormattingInfo: { shortDatePattern: "yyyy/MM/dd", shortTimePattern: "H:mm" } });
    expect(shortDate(late, clock)).toBe("2026/03/03");
    expect(timeOfDay(late, clock)).toBe("8:30");
  });

  it("asks the offset for each moment (summer time differs from winter)", () => {
    const asked: string[] = [];
    const clock = clockFromUserSettings({
      getTimeZoneOffsetMinutes: (at?: Date) => (asked.push(at?.toISOString() ?? ""), at && at.getUTCMonth() >= 3 ? 60 : 0),
      dateFormattingInfo: { shortTimePattern: "HH:mm" },
    });
    expect(timeOfDay("2026-01-10T12:00:00Z", clock)).toBe("12:00");
    expect(timeOfDay("2026-07-10T12:00:00Z", clock)).toBe("13:00");
    expect(asked).toContain("2026-07-10T12:00:00.000Z");
  });

  it("keeps an empty AM/PM designator (a culture that writes none), and defaults a missing one", () => {
    expect(clockFromUserSettings(GERMAN_USER).symbols?.amDesignator).toBe("");
    expect(clockFromUserSettings({ dateFormattingInfo: { shortTimePattern: "h:mm tt" } }).symbols?.pmDesignator).toBe("PM");
  });

  it("without user settings, keeps the browser's clock", () => {
    expect(clockFromUserSettings(undefined)).toEqual({ locale: undefined });
  });
});

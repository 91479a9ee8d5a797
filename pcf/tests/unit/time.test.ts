import { describe, expect, it } from "vitest";
import { dayLabel, remaining, startsNewDay, timeOfDay, whenSaid } from "../../WhatsAppChat/model/time";
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

import { describe, expect, it } from "vitest";
import { type PatternSymbols, formatWithPattern, tokenize } from "../../WhatsAppChat/model/netDateFormat";

// The symbols D365 gives users of these cultures (.NET's CultureInfo.DateTimeFormat).
const EN_US: PatternSymbols = { dateSeparator: "/", timeSeparator: ":", amDesignator: "AM", pmDesignator: "PM", locale: "en-US" };
const DE_DE: PatternSymbols = { dateSeparator: ".", timeSeparator: ":", amDesignator: "AM", pmDesignator: "PM", locale: "de-DE" };
const JA_JP: PatternSymbols = { dateSeparator: "/", timeSeparator: ":", amDesignator: "午前", pmDesignator: "午後", locale: "ja-JP" };
const EN_GB: PatternSymbols = { dateSeparator: "/", timeSeparator: ":", amDesignator: "am", pmDesignator: "pm", locale: "en-GB" };

// Wall-clock moments (their UTC fields are what is written): Monday 2 March 2026, 09:05:07 and 21:40:00.
const MORNING = new Date("2026-03-02T09:05:07Z");
const EVENING = new Date("2026-03-02T21:40:00Z");

describe("dates and times in D365's .NET patterns", () => {
  it("writes en-US's short date and time: M/d/yyyy and h:mm tt", () => {
    expect(formatWithPattern(MORNING, "M/d/yyyy", EN_US)).toBe("3/2/2026");
    expect(formatWithPattern(MORNING, "h:mm tt", EN_US)).toBe("9:05 AM");
    expect(formatWithPattern(EVENING, "h:mm tt", EN_US)).toBe("9:40 PM");
    expect(formatWithPattern(MORNING, "h:mm:ss tt", EN_US)).toBe("9:05:07 AM");
  });

  it("writes de-DE's: dd.MM.yyyy and HH:mm", () => {
    expect(formatWithPattern(MORNING, "dd.MM.yyyy", DE_DE)).toBe("02.03.2026");
    expect(formatWithPattern(MORNING, "HH:mm", DE_DE)).toBe("09:05");
    expect(formatWithPattern(EVENING, "HH:mm:ss", DE_DE)).toBe("21:40:00");
  });

  it("writes ja-JP's: yyyy/MM/dd, H:mm and its own AM/PM", () => {
    expect(formatWithPattern(MORNING, "yyyy/MM/dd", JA_JP)).toBe("2026/03/02");
    expect(formatWithPattern(MORNING, "H:mm", JA_JP)).toBe("9:05");
    expect(formatWithPattern(EVENING, "tt h:mm", JA_JP)).toBe("午後 9:40");
  });

  it("writes the user's separators for '/' and ':', whatever the pattern shows", () => {
    expect(formatWithPattern(MORNING, "dd/MM/yyyy", DE_DE)).toBe("02.03.2026");
    expect(formatWithPattern(MORNING, "HH:mm", { ...DE_DE, timeSeparator: "." })).toBe("09.05");
    expect(formatWithPattern(MORNING, "dd/MM/yyyy HH:mm", EN_GB)).toBe("02/03/2026 09:05");
  });

  it("pads or not as the letters say: d dd, M MM, h hh, H HH, m mm, s ss, yy yyyy", () => {
    expect(formatWithPattern(MORNING, "d-dd M-MM yy-yyyy", EN_US)).toBe("2-02 3-03 26-2026");
    expect(formatWithPattern(MORNING, "h-hh H-HH m-mm s-ss", EN_US)).toBe("9-09 9-09 5-05 7-07");
    expect(formatWithPattern(new Date("2026-03-02T00:30:00Z"), "h hh H HH t tt", EN_US)).toBe("12 12 0 00 A AM");
    expect(formatWithPattern(new Date("2009-07-04T12:00:00Z"), "y yy yyyy", EN_US)).toBe("9 09 2009");
  });

  it("names days and months in the user's language: ddd dddd MMM MMMM", () => {
    expect(formatWithPattern(MORNING, "dddd, MMMM d, yyyy", EN_US)).toBe("Monday, March 2, 2026");
    expect(formatWithPattern(MORNING, "ddd d MMM", EN_GB)).toBe("Mon 2 Mar");
    expect(formatWithPattern(MORNING, "dddd, d. MMMM yyyy", DE_DE)).toBe("Montag, 2. März 2026");
    expect(formatWithPattern(MORNING, "yyyy'年'M'月'd'日'", JA_JP)).toBe("2026年3月2日");
  });

  it("uses a month's genitive beside its day, as .NET does (Polish)", () => {
    const pl: PatternSymbols = { ...DE_DE, locale: "pl-PL" };
    expect(formatWithPattern(MORNING, "d MMMM yyyy", pl)).toBe("2 marca 2026");
    expect(formatWithPattern(MORNING, "MMMM yyyy", pl)).toBe("marzec 2026");
  });

  it("keeps quoted text, escaped letters and other characters as they are", () => {
    expect(formatWithPattern(MORNING, "'Day' d 'of' M", EN_US)).toBe("Day 2 of 3");
    expect(formatWithPattern(MORNING, '"at" HH\\h', EN_US)).toBe("at 09h");
    expect(formatWithPattern(MORNING, "%d", EN_US)).toBe("2");
    expect(formatWithPattern(MORNING, "HH:mm 'Uhr'", DE_DE)).toBe("09:05 Uhr");
    expect(formatWithPattern(MORNING, "d-M (yyyy)", EN_US)).toBe("2-3 (2026)");
  });

  it("reads a pattern into fields and literal text", () => {
    expect(tokenize("dd.MM.yyyy")).toEqual([{ field: "d", length: 2 }, { literal: "." }, { field: "M", length: 2 }, { literal: "." }, { field: "y", length: 4 }]);
    expect(tokenize("h:mm tt")).toEqual([{ field: "h", length: 1 }, { field: ":", length: 1 }, { field: "m", length: 2 }, { literal: " " }, { field: "t", length: 2 }]);
  });
});

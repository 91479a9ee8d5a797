import { INVARIANT_SYMBOLS, type PatternSymbols, formatWithPattern } from "./netDateFormat";

/**
 * The agent's clock: their D365 time zone, date and time patterns, and language (context.userSettings),
 * not the browser's. Each part is optional; a missing one falls back to the browser's way (Intl).
 * Both controls read times through it; the words around them ("Today") are each control's own.
 */
export interface Clock {
  /** BCP-47 language for day and month names, and for Intl where D365 gives no pattern. */
  locale?: string;
  /** An IANA zone (the tests'); `offsetMinutes` wins over it. */
  timeZone?: string;
  /** The D365 user's offset from UTC at a moment (`getTimeZoneOffsetMinutes`), summer time included. */
  offsetMinutes?: (at: Date) => number;
  /** D365's short date pattern, "M/d/yyyy", "dd.MM.yyyy". */
  datePattern?: string;
  /** D365's short time pattern, "h:mm tt", "HH:mm". */
  timePattern?: string;
  /** D365's long time pattern (with seconds), for the full moment a tooltip gives. */
  longTimePattern?: string;
  /** The patterns' "/" and ":" and AM/PM. */
  symbols?: Omit<PatternSymbols, "locale">;
}

/** The parts of a moment's wall-clock time in an IANA zone. */
function inZone(at: Date, timeZone: string): Date {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(at);
  const part = (type: Intl.DateTimeFormatPartTypes): number => Number(parts.find((each) => each.type === type)?.value ?? 0);
  return new Date(Date.UTC(part("year"), part("month") - 1, part("day"), part("hour"), part("minute"), part("second"), at.getUTCMilliseconds()));
}

/**
 * The moment as the agent's wall clock reads it, as a Date whose UTC fields are that reading (so
 * formatting and day arithmetic never touch the browser's zone).
 */
export function wallClock(at: Date, clock: Clock): Date {
  if (clock.offsetMinutes) {
    const offset = clock.offsetMinutes(at);
    if (Number.isFinite(offset)) return new Date(at.getTime() + offset * 60_000);
  }
  if (clock.timeZone) return inZone(at, clock.timeZone);
  return new Date(at.getTime() - at.getTimezoneOffset() * 60_000);
}

function parse(iso: string): Date | undefined {
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

function symbolsOf(clock: Clock): PatternSymbols {
  return { ...INVARIANT_SYMBOLS, ...clock.symbols, locale: clock.locale };
}

/** "9:05 AM", "09:05": the time of day in the user's time pattern. */
export function timeOfDay(iso: string, clock: Clock = {}): string {
  const at = parse(iso);
  if (!at) return "";
  const wall = wallClock(at, clock);
  if (clock.timePattern) return formatWithPattern(wall, clock.timePattern, symbolsOf(clock));
  return new Intl.DateTimeFormat(clock.locale, { hour: "2-digit", minute: "2-digit", timeZone: "UTC" }).format(wall);
}

/** "3/2/2026", "02.03.2026": the date in the user's short date pattern (else the browser's long date). */
export function shortDate(iso: string, clock: Clock = {}): string {
  const at = parse(iso);
  if (!at) return "";
  const wall = wallClock(at, clock);
  if (clock.datePattern) return formatWithPattern(wall, clock.datePattern, symbolsOf(clock));
  return new Intl.DateTimeFormat(clock.locale, { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" }).format(wall);
}

/** The date and the time with seconds, for a tooltip: "02.03.2026 14:02:09". */
export function fullMoment(iso: string, clock: Clock = {}): string {
  const at = parse(iso);
  if (!at) return "";
  const time = clock.longTimePattern
    ? formatWithPattern(wallClock(at, clock), clock.longTimePattern, symbolsOf(clock))
    : new Intl.DateTimeFormat(clock.locale, { hour: "2-digit", minute: "2-digit", second: "2-digit", timeZone: "UTC" }).format(wallClock(at, clock));
  return `${shortDate(iso, clock)} ${time}`;
}

/** The agent's calendar day of a moment, "2026-03-02". */
export function dayKey(at: Date, clock: Clock): string {
  return wallClock(at, clock).toISOString().slice(0, 10);
}

/** How many of the agent's calendar days ago the moment was (0 today, 1 yesterday); undefined for no date. */
export function daysAgo(iso: string, now: Date, clock: Clock = {}): number | undefined {
  const at = parse(iso);
  if (!at) return undefined;
  return Math.round((Date.parse(dayKey(now, clock)) - Date.parse(dayKey(at, clock))) / 86_400_000);
}

import * as React from "react";

/** Times as the agent reads them, in their own time zone and language. */
export interface Clock {
  locale?: string;
  timeZone?: string;
  /**
   * The D365 user's own time zone (`context.userSettings.getTimeZoneOffsetMinutes`, minutes to add to
   * UTC at that moment), which wins over `timeZone` and the browser's.
   */
  offsetMinutes?: (at: Date) => number;
  /** A 12-hour clock (D365's time format says so, "h:mm tt"); else 24-hour. Undefined: the locale's. */
  hour12?: boolean;
}

/** The moment as the agent's clock reads it, and the zone to format it in. */
function local(at: Date, clock: Clock): { at: Date; timeZone: string | undefined } {
  if (!clock.offsetMinutes) return { at, timeZone: clock.timeZone };
  const offset = clock.offsetMinutes(at);
  return Number.isFinite(offset) ? { at: new Date(at.getTime() + offset * 60_000), timeZone: "UTC" } : { at, timeZone: clock.timeZone };
}

/** The agent's clock from D365's user settings: their time zone and time format, not the browser's. */
export function clockFromUserSettings(settings: { getTimeZoneOffsetMinutes?: (date?: Date) => number; dateFormattingInfo?: { shortTimePattern?: string } } | undefined, locale?: string): Clock {
  const clock: Clock = { locale };
  const offsetOf = settings?.getTimeZoneOffsetMinutes;
  if (typeof offsetOf === "function") clock.offsetMinutes = (at) => offsetOf.call(settings, at);
  const pattern = settings?.dateFormattingInfo?.shortTimePattern;
  if (typeof pattern === "string" && pattern) clock.hour12 = /h/.test(pattern) && !/H/.test(pattern);
  return clock;
}

export function timeOfDay(iso: string, clock: Clock = {}): string {
  const parsed = new Date(iso);
  if (Number.isNaN(parsed.getTime())) return "";
  const { at, timeZone } = local(parsed, clock);
  return new Intl.DateTimeFormat(clock.locale, { hour: "2-digit", minute: "2-digit", timeZone, ...(clock.hour12 === undefined ? {} : { hour12: clock.hour12 }) }).format(at);
}

function dayKey(moment: Date, clock: Clock): string {
  const { at, timeZone } = local(moment, clock);
  return new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit", timeZone }).format(at);
}

/** "Today", "Yesterday", or the date: the separator above the first message of each day. */
export function dayLabel(iso: string, now: Date, clock: Clock = {}): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return "";
  const day = dayKey(at, clock);
  if (day === dayKey(now, clock)) return "Today";
  if (day === dayKey(new Date(now.getTime() - 86_400_000), clock)) return "Yesterday";
  const shown = local(at, clock);
  return new Intl.DateTimeFormat(clock.locale, { day: "numeric", month: "long", year: "numeric", timeZone: shown.timeZone }).format(shown.at);
}

/** Whether two times fall on different days for the agent (a new separator is due). */
export function startsNewDay(previousIso: string | undefined, iso: string, clock: Clock = {}): boolean {
  if (previousIso === undefined) return true;
  const previous = new Date(previousIso);
  const at = new Date(iso);
  if (Number.isNaN(previous.getTime()) || Number.isNaN(at.getTime())) return false;
  return dayKey(previous, clock) !== dayKey(at, clock);
}

/** "23 h", "45 min": how long until the window closes. */
export function remaining(from: Date, to: Date): string {
  const minutes = Math.max(0, Math.round((to.getTime() - from.getTime()) / 60_000));
  if (minutes >= 60) return `${Math.floor(minutes / 60)} h ${minutes % 60 ? `${minutes % 60} min` : ""}`.trim();
  return `${minutes} min`;
}

/** "today at 14:02", "yesterday at 09:10", "on 3 March 2026 at 18:45". */
export function whenSaid(iso: string, now: Date, clock: Clock = {}): string {
  const day = dayLabel(iso, now, clock);
  const time = timeOfDay(iso, clock);
  if (day === "Today" || day === "Yesterday") return `${day.toLowerCase()} at ${time}`;
  return `on ${day} at ${time}`;
}

/** The agent's clock for the components below the panel (the D365 user's settings; empty: the browser's). */
export const ClockContext = React.createContext<Clock>({});

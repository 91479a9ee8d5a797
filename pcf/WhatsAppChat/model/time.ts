import * as React from "react";
import { localize } from "../strings/strings";
import { type Clock, dayKey, daysAgo, shortDate, timeOfDay } from "./clock";

export { type Clock, fullMoment, timeOfDay } from "./clock";

/** "Today", "Yesterday", or the date in the user's pattern: the separator above a day's first message. */
export function dayLabel(iso: string, now: Date, clock: Clock = {}): string {
  switch (daysAgo(iso, now, clock)) {
    case undefined:
      return "";
    case 0:
      return localize("Time_Today");
    case 1:
      return localize("Time_Yesterday");
    default:
      return shortDate(iso, clock);
  }
}

/** Whether two times fall on different days for the agent (a new separator is due). */
export function startsNewDay(previousIso: string | undefined, iso: string, clock: Clock = {}): boolean {
  if (previousIso === undefined) return true;
  const previous = new Date(previousIso);
  const at = new Date(iso);
  if (Number.isNaN(previous.getTime()) || Number.isNaN(at.getTime())) return false;
  return dayKey(previous, clock) !== dayKey(at, clock);
}

/** "23 h", "1 h 30 min", "45 min": how long until the window closes. */
export function remaining(from: Date, to: Date): string {
  const minutes = Math.max(0, Math.round((to.getTime() - from.getTime()) / 60_000));
  if (minutes < 60) return localize("Time_Minutes", minutes);
  const hours = Math.floor(minutes / 60);
  return minutes % 60 ? localize("Time_HoursMinutes", hours, minutes % 60) : localize("Time_Hours", hours);
}

/** "today at 14:02", "yesterday at 09:10", "on 03/03/2026 at 18:45", in the user's patterns. */
export function whenSaid(iso: string, now: Date, clock: Clock = {}): string {
  const time = timeOfDay(iso, clock);
  switch (daysAgo(iso, now, clock)) {
    case 0:
      return localize("Time_TodayAt", time);
    case 1:
      return localize("Time_YesterdayAt", time);
    default:
      return localize("Time_OnDayAt", shortDate(iso, clock), time);
  }
}

/** The agent's clock for the components below the panel (the D365 user's settings; empty: the browser's). */
export const ClockContext = React.createContext<Clock>({});

/** Times as the agent reads them, in their own time zone and language. */
export interface Clock {
  locale?: string;
  timeZone?: string;
}

export function timeOfDay(iso: string, clock: Clock = {}): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return "";
  return new Intl.DateTimeFormat(clock.locale, { hour: "2-digit", minute: "2-digit", timeZone: clock.timeZone }).format(at);
}

function dayKey(at: Date, clock: Clock): string {
  return new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit", timeZone: clock.timeZone }).format(at);
}

/** "Today", "Yesterday", or the date: the separator above the first message of each day. */
export function dayLabel(iso: string, now: Date, clock: Clock = {}): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return "";
  const day = dayKey(at, clock);
  if (day === dayKey(now, clock)) return "Today";
  if (day === dayKey(new Date(now.getTime() - 86_400_000), clock)) return "Yesterday";
  return new Intl.DateTimeFormat(clock.locale, { day: "numeric", month: "long", year: "numeric", timeZone: clock.timeZone }).format(at);
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

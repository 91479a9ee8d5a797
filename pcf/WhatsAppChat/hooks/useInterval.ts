import * as React from "react";

/** Calls `tick` every `intervalMs` while `enabled`; the latest `tick` is always the one called. */
export function useInterval(tick: () => void, intervalMs: number, enabled: boolean): void {
  const latest = React.useRef(tick);
  React.useEffect(() => {
    latest.current = tick;
  });
  React.useEffect(() => {
    if (!enabled || intervalMs <= 0) return undefined;
    const timer = setInterval(() => latest.current(), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs, enabled]);
}

/**
 * The current time, taken again every `everyMs` and once more at `wakeAt` (ISO 8601; when something
 * is due, such as the 24-hour window closing).
 */
export function useNow(everyMs: number, wakeAt?: string | null): Date {
  const [now, setNow] = React.useState(() => new Date());
  useInterval(() => setNow(new Date()), everyMs, true);
  React.useEffect(() => {
    const delay = wakeAt ? Date.parse(wakeAt) - Date.now() : Number.NaN;
    // setTimeout takes at most 2^31 - 1 ms; a later wake-up comes from the regular ticks anyway.
    if (!(delay >= 0 && delay < 2_147_000_000)) return undefined;
    const timer = setTimeout(() => setNow(new Date()), delay + 250);
    return () => clearTimeout(timer);
  }, [wakeAt]);
  return now;
}

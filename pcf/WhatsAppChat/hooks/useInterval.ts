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

/**
 * Calls `tick` again and again while `enabled`, each time after `delay()` ms (asked anew each time, so
 * the pace can slow down when nothing happens). A change of `restartKey` starts the wait over.
 */
export function usePolling(tick: () => void, delay: () => number, enabled: boolean, restartKey = 0): void {
  const latestTick = React.useRef(tick);
  const latestDelay = React.useRef(delay);
  React.useEffect(() => {
    latestTick.current = tick;
    latestDelay.current = delay;
  });
  React.useEffect(() => {
    if (!enabled) return undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let cancelled = false;
    const schedule = (): void => {
      const wait = latestDelay.current();
      if (!(wait > 0)) return;
      timer = setTimeout(() => {
        if (cancelled) return;
        latestTick.current();
        schedule();
      }, wait);
    };
    schedule();
    return () => {
      cancelled = true;
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [enabled, restartKey]);
}

import * as React from "react";
import type { InboxState } from "../api/contract";
import { type InboxSource, type InboxView, InboxController } from "../model/inboxController";

/**
 * The controller for as long as the API client stays the same, its view as React state, and polling
 * tied to whether the inbox can be seen (browser tab in front, element on screen) and to focus.
 */
export function useInboxController(
  api: InboxSource | undefined,
  pollIntervalMs: number,
  initialState: InboxState,
  element: React.RefObject<HTMLElement | null>,
): { view: InboxView; controller: InboxController | undefined } {
  const [view, setView] = React.useState<InboxView>({ state: initialState, rows: [], next: null, loading: true, loadingMore: false, refreshing: false });
  // A new controller only for another API client, interval or first tab; started and stopped by the effect.
  const controller = React.useMemo(
    () => (api ? new InboxController(api, pollIntervalMs, setView, initialState) : undefined),
    [api, pollIntervalMs, initialState],
  );

  React.useEffect(() => {
    if (!controller) return undefined;
    void controller.start();
    return () => controller.dispose();
  }, [controller]);

  React.useEffect(() => {
    if (!controller) return undefined;
    let pageVisible = document.visibilityState !== "hidden";
    let onScreen = true;
    const apply = (): void => controller.setVisible(pageVisible && onScreen);
    const visibility = (): void => {
      pageVisible = document.visibilityState !== "hidden";
      apply();
    };
    const focus = (): void => controller.focused();
    document.addEventListener("visibilitychange", visibility);
    window.addEventListener("focus", focus);
    let observer: IntersectionObserver | undefined;
    const target = element.current;
    if (target && typeof IntersectionObserver !== "undefined") {
      observer = new IntersectionObserver((entries) => {
        const entry = entries[entries.length - 1];
        if (entry) {
          onScreen = entry.isIntersecting;
          apply();
        }
      });
      observer.observe(target);
    }
    return () => {
      document.removeEventListener("visibilitychange", visibility);
      window.removeEventListener("focus", focus);
      observer?.disconnect();
    };
  }, [controller, element]);

  return { view, controller };
}

/** The current time, taken again every `everyMs` (relative times move on). */
export function useNow(everyMs: number): Date {
  const [now, setNow] = React.useState(() => new Date());
  React.useEffect(() => {
    const timer = setInterval(() => setNow(new Date()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

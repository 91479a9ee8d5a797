import * as React from "react";

/**
 * Whether the panel can be seen: the browser tab is in front and the element is on screen (a form tab
 * that is not selected hides the control). Polling runs only while this holds.
 */
export function useVisible(element: React.RefObject<HTMLElement | null>): boolean {
  const [pageVisible, setPageVisible] = React.useState(() => typeof document === "undefined" || document.visibilityState !== "hidden");
  const [onScreen, setOnScreen] = React.useState(true);

  React.useEffect(() => {
    const update = (): void => setPageVisible(document.visibilityState !== "hidden");
    document.addEventListener("visibilitychange", update);
    return () => document.removeEventListener("visibilitychange", update);
  }, []);

  React.useEffect(() => {
    const target = element.current;
    if (!target || typeof IntersectionObserver === "undefined") return undefined;
    const observer = new IntersectionObserver((entries) => {
      const entry = entries[entries.length - 1];
      if (entry) setOnScreen(entry.isIntersecting);
    });
    observer.observe(target);
    return () => observer.disconnect();
  }, [element]);

  return pageVisible && onScreen;
}

import * as React from "react";

const FORCED_COLORS = "(forced-colors: active)";

function forcedNow(): boolean {
  return typeof window !== "undefined" && typeof window.matchMedia === "function" && window.matchMedia(FORCED_COLORS).matches;
}

/** Whether the system forces its own colours (a Windows contrast theme), following it when it changes. */
export function useForcedColors(): boolean {
  const [forced, setForced] = React.useState(forcedNow);
  React.useEffect(() => {
    if (typeof window === "undefined" || typeof window.matchMedia !== "function") return undefined;
    const query = window.matchMedia(FORCED_COLORS);
    const changed = (): void => setForced(query.matches);
    changed();
    query.addEventListener("change", changed);
    return () => query.removeEventListener("change", changed);
  }, []);
  return forced;
}

import { tokens } from "@fluentui/react-components";

/**
 * A border for what the light and dark themes set apart by shadow alone (bubbles, chips, the day
 * separator): transparent there, white in the high-contrast theme, and drawn by the system in forced
 * colours, where shadows are not, so the shape stays visible.
 */
export const EDGE = `1px solid ${tokens.colorTransparentStroke}`;

/** Styles for when the system forces its colours (Windows contrast themes). */
export const FORCED_COLORS = "@media (forced-colors: active)";

import type * as React from "react";
import type { Theme } from "@fluentui/react-components";

/**
 * WhatsApp's own colours for the chat (the wallpaper, the business's green bubbles), which Fluent's
 * tokens do not have, for D365's light and dark themes. The panel sets them as CSS variables; the
 * bubbles read them (with the light colours as fallbacks, so a bubble alone still renders).
 */
export const CHAT_VARS = {
  wallpaper: "--wa-chat-wallpaper",
  outboundBackground: "--wa-outbound-background",
  outboundForeground: "--wa-outbound-foreground",
  outboundMuted: "--wa-outbound-muted",
  outboundLink: "--wa-outbound-link",
  quoteBackground: "--wa-quote-background",
  customerAccent: "--wa-customer-accent",
  businessAccent: "--wa-business-accent",
} as const;

type ChatVar = keyof typeof CHAT_VARS;

const LIGHT: Record<ChatVar, string> = {
  wallpaper: "#efeae2",
  outboundBackground: "#d9fdd3",
  outboundForeground: "#111b21",
  outboundMuted: "#4f5d55",
  outboundLink: "#0b5394",
  quoteBackground: "rgba(11, 20, 26, 0.06)",
  customerAccent: "#6240c9",
  businessAccent: "#00704f",
};

const DARK: Record<ChatVar, string> = {
  wallpaper: "#141414",
  outboundBackground: "#005c4b",
  outboundForeground: "#e9edef",
  outboundMuted: "#b7d3cc",
  outboundLink: "#9fd8ff",
  quoteBackground: "rgba(0, 0, 0, 0.28)",
  customerAccent: "#b3a4ff",
  businessAccent: "#3fd9a9",
};

/** `var(--wa-…, <light colour>)`, for makeStyles. */
export function chatVar(name: ChatVar): string {
  return `var(${CHAT_VARS[name]}, ${LIGHT[name]})`;
}

function luminance(hex: string): number | undefined {
  const match = /^#?([0-9a-f]{6})$/i.exec(hex.trim());
  if (!match?.[1]) return undefined;
  const value = parseInt(match[1], 16);
  const channel = (shift: number): number => {
    const c = ((value >> shift) & 0xff) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(16) + 0.7152 * channel(8) + 0.0722 * channel(0);
}

/** Whether the platform's theme is a dark one (its main background is dark). */
export function isDarkTheme(theme: Partial<Theme> | undefined): boolean {
  const background = theme?.colorNeutralBackground1;
  const lum = background ? luminance(background) : undefined;
  return lum !== undefined && lum < 0.2;
}

/** The CSS variables for the panel's root element. */
export function chatPaletteStyle(dark: boolean): React.CSSProperties {
  const palette = dark ? DARK : LIGHT;
  const style: Record<string, string> = {};
  for (const name of Object.keys(CHAT_VARS) as ChatVar[]) style[CHAT_VARS[name]] = palette[name];
  return style;
}

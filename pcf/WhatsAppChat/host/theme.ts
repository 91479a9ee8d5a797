import { type Theme, teamsHighContrastTheme, webDarkTheme, webLightTheme } from "@fluentui/react-components";

/** What the host says about its theme (PCF's `context.fluentDesignLanguage`). */
export interface HostTheme {
  /** The app's own Fluent v9 theme (its brand colours), when the host passes one. */
  tokenTheme?: Theme;
  isDarkTheme?: boolean;
}

/** The host's theme as the controls take it (both optional: a classic form passes neither). */
export function hostTheme(design: Partial<ComponentFramework.FluentDesignState> | undefined): HostTheme {
  return { tokenTheme: design?.tokenTheme as Theme | undefined, isDarkTheme: design?.isDarkTheme };
}

/**
 * The Fluent theme a control renders with. Every colour in the controls is one of its tokens, so this
 * choice alone makes them light, dark or high contrast: high contrast while the system forces its
 * colours (Windows contrast themes), else the host's own theme, else light or dark as the host says.
 */
export function pickTheme(host: HostTheme | undefined, forcedColors: boolean): Theme {
  if (forcedColors) return teamsHighContrastTheme;
  if (host?.tokenTheme) return host.tokenTheme;
  return host?.isDarkTheme ? webDarkTheme : webLightTheme;
}

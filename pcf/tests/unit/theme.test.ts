import { teamsHighContrastTheme, webDarkTheme, webLightTheme } from "@fluentui/react-components";
import { describe, expect, it } from "vitest";
import { hostTheme, pickTheme } from "../../WhatsAppChat/host/theme";

describe("the controls' theme", () => {
  const brandTheme = { ...webLightTheme, colorBrandBackground: "var(--contoso-brand)" };

  it("is the high-contrast theme while the system forces its colours, whatever the host says", () => {
    expect(pickTheme({ tokenTheme: brandTheme }, true)).toBe(teamsHighContrastTheme);
    expect(pickTheme({ isDarkTheme: true }, true)).toBe(teamsHighContrastTheme);
    expect(pickTheme(undefined, true)).toBe(teamsHighContrastTheme);
  });

  it("is the host's own theme (its brand) when it passes one", () => {
    expect(pickTheme({ tokenTheme: brandTheme, isDarkTheme: false }, false)).toBe(brandTheme);
  });

  it("is Fluent's dark or light theme as the host says, when it passes no theme", () => {
    expect(pickTheme({ isDarkTheme: true }, false)).toBe(webDarkTheme);
    expect(pickTheme({ isDarkTheme: false }, false)).toBe(webLightTheme);
    expect(pickTheme(undefined, false)).toBe(webLightTheme);
  });

  it("reads PCF's fluentDesignLanguage, which a classic form leaves out", () => {
    expect(hostTheme({ tokenTheme: webDarkTheme, isDarkTheme: true })).toEqual({ tokenTheme: webDarkTheme, isDarkTheme: true });
    expect(hostTheme(undefined)).toEqual({ tokenTheme: undefined, isDarkTheme: undefined });
  });
});

/**
 * Where Entra ID sends the browser back after sign-in: a blank page the solution ships as a web
 * resource (`pcf/solution/src/WebResources/wa_/auth/blank.html`), not the D365 app itself. MSAL renews
 * tokens in a hidden iframe and completes pop-ups on this page; loading the whole model-driven app
 * there would be slow and can trip its frame rules. Microsoft recommends a blank page for exactly
 * this ("Single-page application: Acquire a token to call an API", MSAL.js: set `redirectUri` to a
 * blank page to avoid the app reloading in the hidden iframe).
 */
// A redirect URI must be the exact address registered in Entra ID: the cached (versioned) web
// resource address the rule asks for changes with each publish, so it cannot be one.
// eslint-disable-next-line @microsoft/power-apps/use-cached-webresource
export const BLANK_REDIRECT_PATH = "/WebResources/wa_/auth/blank.html";

/** The default redirect URI on the D365 origin the control runs in. */
export function defaultRedirectUri(origin: string): string {
  return `${origin.replace(/\/+$/, "")}${BLANK_REDIRECT_PATH}`;
}

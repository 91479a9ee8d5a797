/** Where the API's bearer token comes from. */
export interface TokenSource {
  /**
   * A token for the API, or null when the API runs without sign-in (dev mode against `make run`).
   * Never prompts: when Entra ID needs the agent, it fails with `sign_in_required`.
   */
  getToken(options?: { forceRefresh?: boolean }): Promise<string | null>;
  /**
   * Signs the agent in with a popup. Call it straight from a click: browsers block popups opened
   * later than the agent's gesture.
   */
  signIn?(): Promise<void>;
}

/** Dev mode: `make run` sets AUTH_DISABLED, so no token is sent. */
export const noSignIn: TokenSource = {
  getToken: () => Promise.resolve(null),
};

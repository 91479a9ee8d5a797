import {
  BrowserAuthError,
  InteractionRequiredAuthError,
  PublicClientApplication,
  type AccountInfo,
  type AuthenticationResult,
  type IPublicClientApplication,
} from "@azure/msal-browser";
import { ApiError } from "../api/apiError";
import type { TokenSource } from "./tokenSource";

export interface MsalSettings {
  /** The control's own app registration (a single-page application). */
  clientId: string;
  /** The API's application id or its `api://` id URI: the token's audience. */
  apiAudience: string;
  /** The tenant's id or domain; "organizations" when unknown. */
  tenant: string;
  /** A registered SPA redirect URI on the D365 origin. */
  redirectUri: string;
  /** Resolves the agent's sign-in name (UPN), so the silent sign-in picks the right account. */
  loginHint: () => Promise<string | undefined>;
}

/** The delegated scope the API exposes (docs/deploy.md: Expose an API > `access_as_user`). */
export const API_SCOPE = "access_as_user";

/** The scope to ask for, from the API's application id (`api://<id>`) or its application ID URI. */
export function apiScope(apiAudience: string): string {
  const audience = apiAudience.trim().replace(/\/+$/, "");
  const uri = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(audience) ? `api://${audience}` : audience;
  return `${uri}/${API_SCOPE}`;
}

/**
 * Signs the agent in without a prompt (`ssoSilent` with their login hint: they already signed in to
 * D365 with the same Entra ID account) and keeps tokens in MSAL's cache. When Entra ID needs the
 * agent (consent, MFA, several accounts), `getToken` fails with `sign_in_required` and the panel
 * offers a Sign in button, whose click opens the popup.
 */
export class MsalTokenSource implements TokenSource {
  private app: IPublicClientApplication | undefined;
  private starting: Promise<IPublicClientApplication> | undefined;
  private account: AccountInfo | undefined;
  private loginHint: string | undefined;
  private pending: Promise<string> | undefined;

  constructor(private readonly settings: MsalSettings) {}

  getToken(options?: { forceRefresh?: boolean }): Promise<string> {
    // One sign-in at a time: the first load asks for the session and the history together.
    this.pending ??= this.silently(options?.forceRefresh ?? false).finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  signIn(): Promise<void> {
    const scopes = [apiScope(this.settings.apiAudience)];
    // No await before the popup opens: the agent's click must still count as the reason for it.
    const popup = this.app
      ? this.app.acquireTokenPopup({ scopes, loginHint: this.loginHint })
      : this.client().then((app) => app.acquireTokenPopup({ scopes, loginHint: this.loginHint }));
    return popup.then(
      (result) => void this.remember(result),
      (error: unknown) => Promise.reject(popupFailure(error)),
    );
  }

  private client(): Promise<IPublicClientApplication> {
    this.starting ??= PublicClientApplication.createPublicClientApplication({
      auth: {
        clientId: this.settings.clientId,
        authority: `https://login.microsoftonline.com/${this.settings.tenant}`,
        redirectUri: this.settings.redirectUri,
        navigateToLoginRequestUrl: false,
      },
      cache: { cacheLocation: "sessionStorage" },
    }).then((app) => (this.app = app));
    return this.starting;
  }

  private async silently(forceRefresh: boolean): Promise<string> {
    const app = await this.client();
    const scopes = [apiScope(this.settings.apiAudience)];
    this.loginHint ??= await this.settings.loginHint();
    const account = this.account ?? app.getAllAccounts()[0];
    try {
      const result = account
        ? await app.acquireTokenSilent({ scopes, account, forceRefresh })
        : await app.ssoSilent({ scopes, loginHint: this.loginHint });
      return this.remember(result);
    } catch (error) {
      throw silentFailure(error);
    }
  }

  private remember(result: AuthenticationResult): string {
    if (result.account) this.account = result.account;
    return result.accessToken;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Why a silent sign-in failed: Entra ID needs the agent (consent, MFA, no session, third-party
 * cookies blocked: MSAL reports these as interaction-required or browser errors), or it is broken.
 */
export function silentFailure(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof InteractionRequiredAuthError || error instanceof BrowserAuthError) {
    return ApiError.client("sign_in_required", describe(error));
  }
  return ApiError.client("sign_in_failed", describe(error));
}

/** Why the popup sign-in failed: blocked, closed by the agent, or refused. */
export function popupFailure(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof BrowserAuthError && (error.errorCode === "popup_window_error" || error.errorCode === "empty_window_error")) {
    return ApiError.client("sign_in_popup_blocked", describe(error));
  }
  if (error instanceof BrowserAuthError && error.errorCode === "user_cancelled") {
    return ApiError.client("sign_in_required", describe(error));
  }
  return ApiError.client("sign_in_failed", describe(error));
}

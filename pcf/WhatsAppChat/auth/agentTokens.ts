import { agentLoginHint } from "../host/recordContext";
import { MsalTokenSource } from "./msalTokenSource";
import { defaultRedirectUri } from "./redirect";
import { noSignIn, type TokenSource } from "./tokenSource";

/** What both controls' settings say about signing in. */
export type SignInSettings =
  | { mode: "dev" }
  | { mode: "signed-in"; clientId: string; apiAudience: string; tenant: string; redirectUri?: string };

/**
 * The agent's tokens for the API, as both the chat panel and the inbox get them: none in dev mode
 * (`make run`), else MSAL with the agent's own D365 sign-in as the hint and the blank redirect page.
 */
export function agentTokenSource(
  settings: SignInSettings,
  context: Pick<ComponentFramework.Context<unknown>, "webAPI" | "userSettings">,
): TokenSource {
  if (settings.mode === "dev") return noSignIn;
  return new MsalTokenSource({
    clientId: settings.clientId,
    apiAudience: settings.apiAudience,
    tenant: settings.tenant,
    redirectUri: settings.redirectUri ?? defaultRedirectUri(window.location.origin),
    loginHint: () => agentLoginHint(context.webAPI, context.userSettings.userId),
  });
}

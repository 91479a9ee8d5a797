import type { ApiError } from "../../WhatsAppChat/api/apiError";
import { localize } from "../strings/strings";

/** An API failure in a sentence for the agent: the API's own message when it gave one. */
export function problemText(problem: ApiError): string {
  switch (problem.code) {
    case "network_unreachable":
      return localize("Problem_Network");
    case "timeout":
      return localize("Problem_Timeout");
    case "sign_in_failed":
      return localize("Problem_SignInFailed", problem.serverMessage);
    case "unexpected_answer":
      // "HTTP 502" says what came; any other detail is the control's own diagnostics, not for agents.
      return /^HTTP \d+$/.test(problem.serverMessage) ? localize("Problem_Unexpected", problem.serverMessage) : localize("Problem_Unreadable");
    default:
      // The API's own message, as it gives it (else its code, for support).
      return problem.serverMessage || problem.code;
  }
}

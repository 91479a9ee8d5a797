import { ApiError } from "../api/apiError";
import { localize } from "../strings/strings";
import { windowClosedMessage } from "./sessionWindow";

/** What the agent was doing when it went wrong: a template's send, the template list and a reaction have their own words. */
export type Activity = "loading" | "polling" | "sending" | "uploading" | "loadingTemplates" | "sendingTemplate" | "reacting";

/** Sending something to the customer: a message, a template or a reaction. */
function isSend(activity: Activity): boolean {
  return activity === "sending" || activity === "sendingTemplate" || activity === "reacting";
}

/** A problem in words an agent understands, and what to do about it. */
export interface AgentNotice {
  intent: "error" | "warning";
  title: string;
  detail?: string;
  /** The API's code (or the control's), for support; never shown as the headline. */
  code: string;
  /** A button that fixes it, when there is one. */
  action?: "sign_in";
}

/** Sentences one after another (each already ends with its full stop). */
function sentences(...parts: (string | undefined)[]): string {
  return parts.filter((part) => part !== undefined && part !== "").join(" ");
}

/** What became of what the agent was sending. */
function nothingSent(activity: Activity): string {
  switch (activity) {
    case "sendingTemplate":
      return localize("Problem_TemplateNothingSent");
    case "reacting":
      return localize("Problem_Reaction_NotSent");
    default:
      return localize("Problem_NothingSent");
  }
}

/** What happens next after a problem that passes by itself, per activity. */
function tryAgain(activity: Activity): string {
  switch (activity) {
    case "loadingTemplates":
      return localize("Problem_TemplatesLoad_TryAgain");
    case "sendingTemplate":
      return sentences(localize("Problem_Template_TryAgain"), nothingSent(activity));
    case "reacting":
      return localize("Problem_Reaction_TryAgain");
    case "loading":
      return localize("Problem_RefreshAgain");
    case "polling":
      return localize("Problem_KeepsTrying");
    case "sending":
      return sentences(localize("Problem_SendAgain"), localize("Problem_NothingSent"));
    case "uploading":
      return localize("Problem_UploadAgain");
  }
}

/** The API's message as a sentence, so more words can follow it. */
export function sentence(text: string): string {
  const trimmed = text.trim();
  return !trimmed || /[.!?:]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

/** "Wait about 30 seconds, then press Send again." (or "try again", for a reaction). */
function waitThenRetry(activity: Activity, seconds: number | undefined): string {
  const react = activity === "reacting";
  if (seconds) return localize(react ? "Problem_RateLimited_TrySeconds" : "Problem_RateLimited_SendSeconds", seconds);
  return localize(react ? "Problem_RateLimited_Try" : "Problem_RateLimited_Send");
}

/** The network is down: what to do, per activity. */
function networkAdvice(activity: Activity): string {
  if (isSend(activity)) return sentences(localize("Problem_Network_Send"), nothingSent(activity));
  if (activity === "polling") return localize("Problem_Network_Polling");
  if (activity === "loadingTemplates") return localize("Problem_Network_Templates");
  return localize("Problem_Network_Refresh");
}

/** Any other failure: the API's own message when it sent one, else what the panel knows. */
function otherProblem(error: ApiError): Omit<AgentNotice, "code"> {
  const server = error.serverMessage;
  const title = localize(error.status >= 500 || error.status === 0 ? "Problem_ServerError_Title" : "Problem_Refused_Title");
  // Only an answer from the API carries a message for agents; the panel's own details are diagnostics.
  if (error.status === 0) return { intent: "error", title, detail: localize("Problem_Unreadable_Detail") };
  return { intent: "error", title, detail: server && server !== `HTTP ${error.status}` ? server : localize("Problem_Http_Detail", error.status) };
}

function wording(error: ApiError, activity: Activity): Omit<AgentNotice, "code"> {
  if (error.code === "sign_in_required") {
    return { intent: "warning", title: localize("Problem_SignIn_Title"), detail: localize("Problem_SignIn_Detail"), action: "sign_in" };
  }
  const server = error.serverMessage;
  const nothing = nothingSent(activity);
  switch (error.code) {
    case "session_inactive":
      if (activity === "reacting") return { intent: "warning", title: localize("Problem_Reaction_WindowClosed") };
      return { intent: "warning", title: windowClosedMessage(), detail: localize("Problem_SessionInactive_Detail") };
    case "rejected_by_whatsapp":
      return { intent: "error", title: localize("Problem_Rejected_Title"), detail: server };
    case "rate_limited":
      return { intent: "warning", title: localize("Problem_RateLimited_Title"), detail: sentences(waitThenRetry(activity, error.retryAfterSeconds), nothing) };
    case "whatsapp_auth_failed":
      return { intent: "error", title: localize("Problem_WhatsAppAuth_Title"), detail: sentences(localize("Problem_WhatsAppAuth_Detail"), nothing) };
    case "whatsapp_unavailable":
      return {
        intent: "error",
        title: localize("Problem_WhatsAppUnavailable_Title"),
        detail: isSend(activity) && activity !== "sending" ? tryAgain(activity) : sentences(localize("Problem_SendAgain"), localize("Problem_NothingSent")),
      };
    case "whatsapp_no_answer":
      return { intent: "warning", title: localize("Problem_WhatsAppNoAnswer_Title"), detail: localize("Problem_MayStillArrive_Detail") };
    case "unsupported_media_type":
      // Once, in the agent's words: the API's message names MIME types ("image/gif"), which agents do not read.
      return { intent: "error", title: localize("Problem_UnsupportedMedia_Title"), detail: localize("Problem_UnsupportedMedia_Detail") };
    case "file_too_large":
      return { intent: "error", title: localize("Problem_FileTooLarge_Title"), detail: server };
    case "empty_file":
      return { intent: "error", title: localize("Problem_EmptyFile_Title"), detail: localize("Problem_EmptyFile_Detail") };
    case "invalid_request":
      if (activity === "sendingTemplate") {
        return { intent: "error", title: localize("Problem_TemplateInvalid_Title"), detail: localize("Problem_TemplateInvalid_Detail", sentence(server)) };
      }
      if (activity === "reacting") return { intent: "error", title: localize("Problem_Reaction_Invalid"), detail: server };
      if (activity === "loadingTemplates") return { intent: "error", title: localize("Problem_TemplatesLoad_Title"), detail: server };
      return activity === "loading" || activity === "polling"
        ? { intent: "error", title: localize("Problem_InvalidPhone_Title"), detail: server }
        : { intent: "error", title: localize("Problem_InvalidMessage_Title"), detail: sentences(sentence(server), localize("Problem_NothingSent")) };
    case "unauthenticated":
      return { intent: "error", title: localize("Problem_Unauthenticated_Title"), detail: localize("Problem_Unauthenticated_Detail") };
    case "forbidden":
      return { intent: "error", title: localize("Problem_Forbidden_Title"), detail: localize("Problem_Forbidden_Detail") };
    case "auth_not_configured":
      return { intent: "error", title: localize("Problem_AuthNotConfigured_Title"), detail: localize("Problem_AskAdministrator") };
    case "auth_unavailable":
      return { intent: "error", title: localize("Problem_AuthUnavailable_Title"), detail: localize("Problem_TryInAMoment") };
    case "store_unavailable":
      return {
        intent: "error",
        title: localize("Problem_StoreUnavailable_Title"),
        detail: sentences(localize("Problem_TryInAMoment"), isSend(activity) ? nothing : undefined),
      };
    case "not_found":
      return { intent: "error", title: localize("Problem_NotFound_Title"), detail: localize("Problem_NotFound_Detail") };
    case "not_allowed":
      // Final for this record: the panel shows it instead of the chat and stops asking. The API says
      // which of the three reasons it is; the panel's list only stands in when it says nothing.
      return {
        intent: "error",
        title: localize("Problem_NotAllowed_Title"),
        detail: sentences(
          sentence(server) || localize("Problem_NotAllowed_Reasons"),
          isSend(activity) ? localize("Problem_NotAllowed_NotSent") : undefined,
          localize("Problem_NotAllowed_AskAdministrator"),
        ),
      };
    case "not_configured":
      // For the templates: the business number has no WhatsApp Business Account id set.
      if (activity === "loadingTemplates") {
        return { intent: "error", title: localize("Problem_TemplatesNotConfigured_Title"), detail: localize("Problem_TemplatesNotConfigured_Detail") };
      }
      return {
        intent: "error",
        title: localize("Problem_NotConfigured_Title"),
        detail: sentences(
          localize("Problem_NotConfigured_Detail"),
          isSend(activity) ? nothing : activity === "polling" ? localize("Problem_KeepsTrying") : localize("Problem_TryLater"),
        ),
      };
    case "access_check_unavailable":
      return { intent: "warning", title: localize("Problem_AccessCheck_Title"), detail: sentences(localize("Problem_AccessCheck_Detail"), tryAgain(activity)) };
    case "client_message_id_reused":
      // The panel sends a new id whenever the message changed, so this should never come.
      return { intent: "warning", title: localize("Problem_EarlierAttempt_Title"), detail: localize("Problem_EarlierAttempt_Detail") };
    case "network_unreachable":
      return { intent: "error", title: localize("Problem_Network_Title"), detail: networkAdvice(activity) };
    case "timeout":
      return activity === "sending" || activity === "sendingTemplate"
        ? { intent: "warning", title: localize("Problem_Timeout_Send_Title"), detail: localize("Problem_MayStillArrive_Detail") }
        : { intent: "error", title: localize("Problem_Timeout_Title"), detail: localize("Problem_TryInAMoment") };
    // Templates (issue 14).
    case "marketing_opt_out":
      return { intent: "warning", title: localize("Problem_MarketingOptOut_Title"), detail: localize("Problem_MarketingOptOut_Detail") };
    case "template_not_found":
      return { intent: "error", title: localize("Problem_TemplateNotFound_Title"), detail: localize("Problem_TemplateNotFound_Detail") };
    case "meta_unavailable":
      return { intent: "error", title: localize("Problem_TemplatesUnavailable_Title"), detail: localize("Problem_TemplatesUnavailable_Detail") };
    case "sign_in_popup_blocked":
      return { intent: "error", title: localize("Problem_PopupBlocked_Title"), detail: localize("Problem_PopupBlocked_Detail") };
    case "sign_in_failed":
      // Entra ID's (MSAL's) own message, as it gives it.
      return { intent: "error", title: localize("Problem_SignInFailed_Title"), detail: server };
    case "sticker_not_sendable":
      return { intent: "error", title: localize("Problem_Sticker_Title"), detail: localize("Problem_Sticker_Detail", server) };
    case "sign_in_not_configured":
      return { intent: "error", title: localize("Setup_Title"), detail: server };
    default:
      return otherProblem(error);
  }
}

export function describeProblem(error: unknown, activity: Activity): AgentNotice {
  const apiError =
    error instanceof ApiError ? error : ApiError.client("unexpected_answer", error instanceof Error ? error.message : String(error));
  return { ...wording(apiError, activity), code: apiError.code };
}

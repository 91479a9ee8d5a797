import { ApiError } from "../api/apiError";
import { localize } from "../strings/strings";
import { WINDOW_CLOSED_MESSAGE } from "./sessionWindow";

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

const NOTHING_SENT = "Nothing was sent, and your message is still in the box.";
// The API says which of the three it is; this only stands in when it says nothing.
const NOT_ALLOWED_REASONS =
  "You may not see this record in Dynamics 365, the customer's number isn't one of its phone numbers, or this chat service doesn't serve the business number.";

/** What became of what the agent was sending. */
function nothingSent(activity: Activity): string {
  switch (activity) {
    case "sendingTemplate":
      return localize("Problem_TemplateNothingSent");
    case "reacting":
      return localize("Problem_Reaction_NotSent");
    default:
      return NOTHING_SENT;
  }
}

/** What happens next after a problem that passes by itself, per activity. */
function tryAgain(activity: Activity): string {
  switch (activity) {
    case "loadingTemplates":
      return localize("Problem_TemplatesLoad_TryAgain");
    case "sendingTemplate":
      return `${localize("Problem_Template_TryAgain")} ${nothingSent(activity)}`;
    case "reacting":
      return localize("Problem_Reaction_TryAgain");
    case "loading":
      return "Press Refresh in a moment.";
    case "polling":
      return "The panel keeps trying.";
    case "sending":
      return `Press Send again in a moment. ${NOTHING_SENT}`;
    case "uploading":
      return "Upload the file again in a moment.";
  }
}

/** The API's message as a sentence, so more words can follow it. */
export function sentence(text: string): string {
  const trimmed = text.trim();
  return !trimmed || /[.!?:]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

function wording(error: ApiError, activity: Activity): Omit<AgentNotice, "code"> {
  if (error.code === "sign_in_required") {
    return {
      intent: "warning",
      title: "Sign in to use WhatsApp chat.",
      detail: "Your Dynamics 365 sign-in could not be used without asking you.",
      action: "sign_in",
    };
  }
  const server = error.serverMessage;
  const nothing = nothingSent(activity);
  switch (error.code) {
    case "session_inactive":
      if (activity === "reacting") return { intent: "warning", title: localize("Problem_Reaction_WindowClosed") };
      return {
        intent: "warning",
        title: WINDOW_CLOSED_MESSAGE,
        detail: "The customer's 24-hour window has closed. Your message is kept; you can send it when they write again.",
      };
    case "rejected_by_whatsapp":
      return { intent: "error", title: "WhatsApp refused this message.", detail: server };
    case "rate_limited":
      return {
        intent: "warning",
        title: "WhatsApp is busy right now.",
        detail: `${error.retryAfterSeconds ? `Wait about ${error.retryAfterSeconds} seconds` : "Wait a moment"}, then ${activity === "reacting" ? "try" : "press Send"} again. ${nothing}`,
      };
    case "whatsapp_auth_failed":
      return {
        intent: "error",
        title: "WhatsApp refused this app's credentials.",
        detail: `Ask your administrator to renew the WhatsApp access token. ${nothing}`,
      };
    case "whatsapp_unavailable":
      return { intent: "error", title: "WhatsApp can't be reached right now.", detail: isSend(activity) && activity !== "sending" ? tryAgain(activity) : `Press Send again in a moment. ${NOTHING_SENT}` };
    case "whatsapp_no_answer":
      return {
        intent: "warning",
        title: "WhatsApp didn't answer in time, so the message may still arrive.",
        detail: "Check the chat before sending again. Pressing Send again with the same message won't send it twice.",
      };
    case "unsupported_media_type":
      return {
        intent: "error",
        title: "WhatsApp can't carry this kind of file.",
        // Once, in the agent's words: the API's message names MIME types ("image/gif"), which agents do not read.
        detail: "Send a photo as JPEG or PNG, or a document as PDF, Word, Excel, PowerPoint or plain text.",
      };
    case "file_too_large":
      return { intent: "error", title: "This file is too large for WhatsApp.", detail: server };
    case "empty_file":
      return { intent: "error", title: "This file is empty.", detail: "Choose another file." };
    case "invalid_request":
      if (activity === "sendingTemplate") {
        return { intent: "error", title: localize("Problem_TemplateInvalid_Title"), detail: localize("Problem_TemplateInvalid_Detail", sentence(server)) };
      }
      if (activity === "reacting") return { intent: "error", title: localize("Problem_Reaction_Invalid"), detail: server };
      if (activity === "loadingTemplates") return { intent: "error", title: localize("Problem_TemplatesLoad_Title"), detail: server };
      return activity === "loading" || activity === "polling"
        ? { intent: "error", title: "This record's phone number can't be used for WhatsApp.", detail: server }
        : { intent: "error", title: "Something in this message isn't valid.", detail: `${sentence(server)} ${NOTHING_SENT}` };
    case "unauthenticated":
      return { intent: "error", title: "Your sign-in to the chat service has expired or was refused.", detail: "Reload the form to sign in again." };
    case "forbidden":
      return { intent: "error", title: "Your account isn't allowed to use WhatsApp chat.", detail: "Ask your administrator for access." };
    case "auth_not_configured":
      return { intent: "error", title: "Sign-in for WhatsApp chat isn't set up on the server yet.", detail: "Ask your administrator." };
    case "auth_unavailable":
      return { intent: "error", title: "Your sign-in can't be checked right now.", detail: "Try again in a moment." };
    case "store_unavailable":
      return {
        intent: "error",
        title: "The chat service's storage isn't answering.",
        detail: isSend(activity) ? `Try again in a moment. ${nothing}` : "Try again in a moment.",
      };
    case "not_found":
      return { intent: "error", title: "The chat service address is wrong.", detail: "Ask your administrator to check the control's API base URL." };
    case "not_allowed":
      // Final for this record: the panel shows it instead of the chat and stops asking.
      return {
        intent: "error",
        title: "You can't use WhatsApp chat on this record.",
        detail: `${sentence(server) || NOT_ALLOWED_REASONS}${isSend(activity) ? " Your message wasn't sent." : ""} If this looks wrong, ask your administrator.`,
      };
    case "not_configured":
      // For the templates: the business number has no WhatsApp Business Account id set.
      if (activity === "loadingTemplates") {
        return { intent: "error", title: localize("Problem_TemplatesNotConfigured_Title"), detail: localize("Problem_TemplatesNotConfigured_Detail") };
      }
      return {
        intent: "error",
        title: "WhatsApp chat isn't fully set up yet.",
        detail: `An administrator must finish setting up the chat service. ${
          isSend(activity) ? nothing : activity === "polling" ? "The panel keeps trying." : "Try again later."
        }`,
      };
    case "access_check_unavailable":
      return { intent: "warning", title: "Dynamics 365 couldn't confirm that you may see this record.", detail: `This usually passes quickly. ${tryAgain(activity)}` };
    case "client_message_id_reused":
      // The panel sends a new id whenever the message changed, so this should never come.
      return {
        intent: "warning",
        title: "An earlier attempt to send this message is still being checked.",
        detail: "You changed the message after that attempt, so the changed text wasn't sent. Look for the earlier attempt in the chat, then press Send to send your changed text as a new message.",
      };
    case "network_unreachable":
      return {
        intent: "error",
        title: "Can't reach the chat service.",
        detail: isSend(activity)
          ? `Check your connection and try again. ${nothing}`
          : activity === "polling"
            ? "Check your connection; the panel keeps trying."
            : activity === "loadingTemplates"
              ? localize("Problem_Network_Templates")
              : "Check your connection, then press Refresh.",
      };
    case "timeout":
      return activity === "sending" || activity === "sendingTemplate"
        ? {
            intent: "warning",
            title: "The chat service didn't answer in time, so the message may still arrive.",
            detail: "Check the chat before sending again. Pressing Send again with the same message won't send it twice.",
          }
        : { intent: "error", title: "The chat service didn't answer in time.", detail: "Try again in a moment." };
    // Templates (issue 14).
    case "marketing_opt_out":
      return { intent: "warning", title: localize("Problem_MarketingOptOut_Title"), detail: localize("Problem_MarketingOptOut_Detail") };
    case "template_not_found":
      return { intent: "error", title: localize("Problem_TemplateNotFound_Title"), detail: localize("Problem_TemplateNotFound_Detail") };
    case "meta_unavailable":
      return { intent: "error", title: localize("Problem_TemplatesUnavailable_Title"), detail: localize("Problem_TemplatesUnavailable_Detail") };
    case "sign_in_popup_blocked":
      return { intent: "error", title: "The sign-in window was blocked.", detail: "Allow pop-ups for this site, then press Refresh." };
    case "sign_in_failed":
      return { intent: "error", title: "You couldn't be signed in to the chat service.", detail: server };
    case "sticker_not_sendable":
      return { intent: "error", title: "Stickers can't be sent from the chat panel.", detail: `${server}; send a JPEG or PNG image instead.` };
    case "sign_in_not_configured":
      return { intent: "error", title: "This chat panel isn't configured yet.", detail: server };
    default:
      return {
        intent: "error",
        title: error.status >= 500 || error.status === 0 ? "The chat service had a problem." : "The chat service refused the request.",
        detail: server && server !== `HTTP ${error.status}` ? server : `It answered HTTP ${error.status}. Try again in a moment.`,
      };
  }
}

export function describeProblem(error: unknown, activity: Activity): AgentNotice {
  const apiError =
    error instanceof ApiError ? error : ApiError.client("unexpected_answer", error instanceof Error ? error.message : String(error));
  return { ...wording(apiError, activity), code: apiError.code };
}

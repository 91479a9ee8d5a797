/**
 * The inbox's words, keyed as in `WhatsAppInbox.1033.resx` (the platform's strings file, which
 * translations copy). The control reads them from the platform (`context.resources.getString`); these
 * English ones stand in where the platform has none (the harness, the tests). `{0}`, `{1}` are filled
 * in by {@link localize}. A unit test keeps this table and the .resx the same.
 */
export const DEFAULT_STRINGS = {
  // The manifest: the control and its properties.
  WhatsAppInbox_Display: "WhatsApp inbox",
  WhatsAppInbox_Description: "The business number's WhatsApp conversations with unread counts; picking one opens its contact or lead.",
  ApiBaseUrl_Display: "API base URL",
  ApiBaseUrl_Description: "The Function App's address, for example https://<app>.azurewebsites.net/api.",
  ApiApplicationId_Display: "API application id (audience)",
  ApiApplicationId_Description: "The API's Entra ID application id or application ID URI.",
  ClientId_Display: "Control client id",
  ClientId_Description: "The control's own Entra ID app registration (single-page application).",
  TenantId_Display: "Tenant id",
  TenantId_Description: "The Entra ID tenant; empty means organizations.",
  RedirectUri_Display: "Sign-in redirect URI",
  RedirectUri_Description: "Optional: a registered SPA redirect URI on the D365 address.",
  BusinessPhoneNumberId_Display: "Business phone number id",
  BusinessPhoneNumberId_Description: "Optional: Meta's id of the business number (default: the API's).",
  DefaultState_Display: "Show first",
  DefaultState_Description: "The tab the inbox opens on: waiting (unread), open (inside the 24-hour window) or all.",
  PollSeconds_Display: "Refresh every (seconds)",
  PollSeconds_Description: "How often the inbox refreshes while it is on screen, 5 to 120; slower while nothing changes.",
  InboxHeight_Display: "Inbox height (pixels)",
  InboxHeight_Description: "The inbox's height, 240 to 2000.",
  DevMode_Display: "Dev mode",
  DevMode_Description: "On: no sign-in, against the local app (make run). Never on in production.",
  DevMode_Off: "Off",
  DevMode_On: "On",
  // The tabs.
  State_Waiting: "Waiting",
  State_Open: "Open",
  State_All: "All",
  // The inbox.
  Inbox_Title: "WhatsApp inbox",
  Inbox_Tabs: "Which conversations",
  Inbox_List: "Conversations",
  Inbox_Refresh: "Refresh",
  Inbox_Dev: "Dev",
  Inbox_Loading: "Loading conversations…",
  Inbox_LoadMore: "Load more",
  Inbox_LoadingMore: "Loading…",
  Inbox_Empty_waiting: "No conversation is waiting for a reply.",
  Inbox_Empty_open: "No conversation is inside its 24-hour window.",
  Inbox_Empty_all: "No WhatsApp conversations yet.",
  Inbox_Contact: "Contact",
  Inbox_Lead: "Lead",
  Inbox_NoRecord: "No linked record",
  Inbox_NoRecordNotice: "{0} has no linked contact or lead yet, so there is no form to open. Find or create the customer's contact or lead with this number, then chat from its form.",
  Inbox_Dismiss: "Dismiss",
  Inbox_Unread: "{0} unread",
  Inbox_WindowOpen: "Window open",
  Inbox_WindowClosed: "Window closed",
  Inbox_You: "You: {0}",
  Inbox_NoPreview: "(no text)",
  Inbox_OpenFailed: "The form could not be opened: {0}",
  Inbox_TryAgain: "Try again",
  Inbox_Problem: "The inbox could not be loaded.",
  Inbox_SignIn: "Sign in to see the WhatsApp inbox.",
  Inbox_SignInButton: "Sign in",
  Inbox_Setup: "This inbox isn't configured yet.",
  Inbox_SetupDetail: "Ask your administrator: {0}",
  Problem_Network: "The WhatsApp service could not be reached. Check the connection; the inbox tries again by itself.",
  Problem_Timeout: "The WhatsApp service did not answer in time; the inbox tries again by itself.",
  Problem_SignInFailed: "Signing in failed: {0}",
  Problem_Unexpected: "The WhatsApp service gave an unexpected answer ({0}).",
  // Relative times.
  Time_Now: "now",
  Time_Minutes: "{0} min",
  Time_Hours: "{0} h",
  Time_Yesterday: "Yesterday",
} as const;

export type InboxStringKey = keyof typeof DEFAULT_STRINGS;

let lookup: ((key: string) => string) | undefined;

/** Reads the platform's strings from now on (undefined: the English defaults). */
export function loadInboxStrings(getString: ((key: string) => string) | undefined): void {
  lookup = getString;
}

/** The word for `key` with `{0}`, `{1}`… filled in; the English default when the platform has none. */
export function localize(key: InboxStringKey, ...values: (string | number)[]): string {
  let text: string = DEFAULT_STRINGS[key];
  if (lookup) {
    try {
      const found = lookup(key);
      // The platform answers the key itself (or nothing) for a string it does not have.
      if (found && found !== key) text = found;
    } catch {
      // keep the default
    }
  }
  return text.replace(/\{(\d+)\}/g, (whole, index: string) => {
    const value = values[Number(index)];
    return value === undefined ? whole : String(value);
  });
}

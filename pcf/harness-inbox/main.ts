/**
 * A test page for the inbox control outside D365: the PCF context a dashboard or custom page would
 * pass (the control's properties, dev mode on) and what the real control's updateView returns.
 * `context.navigation.openForm` is recorded (window.openedForms, and a line under the control)
 * instead of opening a form. Query: ?api=http://127.0.0.1:7071/api&state=all&poll=5&height=600,
 * phoneNumberId=<Meta's id>, theme=dark, and the user's language, time zone and patterns (lang=de,
 * tzOffset=120: ../harness/hostContext.ts).
 */
import * as ReactDOM from "react-dom";
import { webDarkTheme } from "@fluentui/react-components";
import type { IInputs } from "../WhatsAppInbox/generated/ManifestTypes";
import { WhatsAppInbox } from "../WhatsAppInbox/index";
import englishResx from "../WhatsAppInbox/strings/WhatsAppInbox.1033.resx";
import germanResx from "../WhatsAppInbox/strings/WhatsAppInbox.1031.resx";
import { hostContext } from "../harness/hostContext";

declare global {
  interface Window {
    openedForms: { entityName: string; entityId: string }[];
  }
}

const query = new URLSearchParams(window.location.search);

function text(raw: string | null): ComponentFramework.PropertyTypes.StringProperty {
  return { raw, formatted: raw ?? undefined } as ComponentFramework.PropertyTypes.StringProperty;
}

function whole(raw: string | null): ComponentFramework.PropertyTypes.WholeNumberProperty {
  return { raw: raw === null ? null : Number(raw) } as ComponentFramework.PropertyTypes.WholeNumberProperty;
}

const parameters = {
  apiBaseUrl: text(query.get("api")),
  apiApplicationId: text(null),
  clientId: text(null),
  tenantId: text(null),
  redirectUri: text(null),
  businessPhoneNumberId: text(query.get("phoneNumberId")),
  defaultState: { raw: query.get("state") ?? "waiting" },
  pollSeconds: whole(query.get("poll")),
  inboxHeight: whole(query.get("height")),
  devMode: { raw: "on" },
} as unknown as IInputs;

const dark = query.get("theme") === "dark";
if (dark) document.body.dataset.theme = "dark";

window.openedForms = [];
const opened = document.getElementById("opened");
const navigation = {
  openForm: (options: { entityName: string; entityId: string }) => {
    window.openedForms.push({ entityName: options.entityName, entityId: options.entityId });
    if (opened) opened.textContent = `openForm: ${options.entityName} ${options.entityId}`;
    return Promise.resolve({ savedEntityReference: [] });
  },
};

// Only what the control reads; a dashboard passes much more.
const context = {
  parameters,
  mode: {},
  navigation,
  fluentDesignLanguage: dark ? { tokenTheme: webDarkTheme, isDarkTheme: true } : undefined,
  ...hostContext(query, { english: englishResx, german: germanResx }),
  webAPI: { retrieveRecord: () => Promise.reject(new Error("no Dataverse in the harness")) },
} as unknown as ComponentFramework.Context<IInputs>;

const control = new WhatsAppInbox();
control.init();
const root = document.getElementById("control");
if (root) ReactDOM.render(control.updateView(context), root);

/**
 * A test page for the control outside D365: it builds the PCF context a form would pass (the phone
 * column and the control's properties, dev mode on) and renders what the real control's updateView
 * returns. Query: ?phone=15551234567&api=http://127.0.0.1:7071/api&poll=2&height=720, and optionally
 * record=lead:<guid> (the form's record; `none` for a host that names none; default a contact),
 * name=Ada Lovelace (the record's full name column, shown in the header),
 * firstName=Ada (the record's first name column, bound to the control; empty for a record without one)
 * theme=dark (D365's dark theme, as the platform passes it), and the user's language, time zone and
 * patterns (lang=de, tzOffset=120, timeFormat=h:mm tt, dateFormat=M/d/yyyy: hostContext.ts). High
 * contrast comes from the system (forced colours), as in D365: the journey emulates it.
 */
import * as ReactDOM from "react-dom";
import { webDarkTheme } from "@fluentui/react-components";
import type { IInputs } from "../WhatsAppChat/generated/ManifestTypes";
import { WhatsAppChat } from "../WhatsAppChat/index";
import englishResx from "../WhatsAppChat/strings/WhatsAppChat.1033.resx";
import germanResx from "../WhatsAppChat/strings/WhatsAppChat.1031.resx";
import { hostContext } from "./hostContext";

const query = new URLSearchParams(window.location.search);

function text(raw: string | null): ComponentFramework.PropertyTypes.StringProperty {
  return { raw, formatted: raw ?? undefined } as ComponentFramework.PropertyTypes.StringProperty;
}

function whole(raw: string | null): ComponentFramework.PropertyTypes.WholeNumberProperty {
  const value = raw === null ? null : Number(raw);
  return { raw: value } as ComponentFramework.PropertyTypes.WholeNumberProperty;
}

const parameters: IInputs = {
  phoneNumber: text(query.get("phone")),
  firstName: text(query.get("firstName")),
  customerName: text(query.get("name")),
  apiBaseUrl: text(query.get("api")),
  apiApplicationId: text(null),
  clientId: text(null),
  tenantId: text(null),
  redirectUri: text(null),
  businessPhoneNumberId: text(query.get("phoneNumberId")),
  pollSeconds: whole(query.get("poll")),
  panelHeight: whole(query.get("height")),
  devMode: { raw: "on" } as ComponentFramework.PropertyTypes.EnumProperty<"off" | "on">,
};

const record = query.get("record") ?? "contact:3f2504e0-4f89-11d3-9a0c-0305e82c3301";
const [entityTypeName, entityId] = record.split(":");
const dark = query.get("theme") === "dark";
if (dark) document.body.dataset.theme = "dark";

// Only what the control reads; a form passes much more.
const context = {
  parameters,
  mode: record === "none" ? {} : { contextInfo: { entityTypeName, entityId } },
  fluentDesignLanguage: dark ? { tokenTheme: webDarkTheme, isDarkTheme: true } : undefined,
  ...hostContext(query, { english: englishResx, german: germanResx }),
  webAPI: { retrieveRecord: () => Promise.reject(new Error("no Dataverse in the harness")) },
} as unknown as ComponentFramework.Context<IInputs>;

const control = new WhatsAppChat();
control.init();
const root = document.getElementById("control");
if (root) ReactDOM.render(control.updateView(context), root);

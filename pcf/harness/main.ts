/**
 * A test page for the control outside D365: it builds the PCF context a form would pass (the phone
 * column and the control's properties, dev mode on) and renders what the real control's updateView
 * returns. Query: ?phone=15551234567&api=http://127.0.0.1:7071/api&poll=2&height=720, and optionally
 * record=lead:<guid> (the form's record; `none` for a host that names none; default a contact),
 * name=Ada Lovelace (the record's full name column, shown in the header),
 * firstName=Ada (the record's first name column, bound to the control; empty for a record without one)
 * theme=dark (D365's dark theme, as the platform passes it), tzOffset=120 and timeFormat=h:mm tt (the
 * D365 user's time zone, minutes ahead of UTC, and time format) and lang=de (the German strings file, as
 * the platform's context.resources would give it to a German-speaking user).
 */
import * as ReactDOM from "react-dom";
import { webDarkTheme } from "@fluentui/react-components";
import type { IInputs } from "../WhatsAppChat/generated/ManifestTypes";
import { WhatsAppChat } from "../WhatsAppChat/index";
import germanResx from "../WhatsAppChat/strings/WhatsAppChat.1031.resx";

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

/** A .resx file's entries, name to text, as the platform reads them. */
function resxEntries(xml: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const match of xml.matchAll(/<data name="([^"]+)"[^>]*>\s*<value>([\s\S]*?)<\/value>/g)) {
    const text = (match[2] ?? "").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, "&");
    entries.set(match[1] ?? "", text);
  }
  return entries;
}
const german = query.get("lang") === "de" ? resxEntries(germanResx) : undefined;

// Only what the control reads; a form passes much more.
const context = {
  parameters,
  mode: record === "none" ? {} : { contextInfo: { entityTypeName, entityId } },
  fluentDesignLanguage: dark ? { tokenTheme: webDarkTheme } : undefined,
  userSettings: {
    userId: "{00000000-0000-0000-0000-000000000001}",
    languageId: german ? 1031 : 1033,
    ...(query.has("tzOffset") ? { getTimeZoneOffsetMinutes: () => Number(query.get("tzOffset")) } : {}),
    ...(query.has("timeFormat") ? { dateFormattingInfo: { shortTimePattern: query.get("timeFormat") } } : {}),
  },
  // The platform answers the key itself for a name its strings file does not have.
  resources: german ? { getString: (key: string) => german.get(key) ?? key } : undefined,
  webAPI: { retrieveRecord: () => Promise.reject(new Error("no Dataverse in the harness")) },
} as unknown as ComponentFramework.Context<IInputs>;

const control = new WhatsAppChat();
control.init();
const root = document.getElementById("control");
if (root) ReactDOM.render(control.updateView(context), root);

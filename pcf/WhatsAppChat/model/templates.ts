import type {
  MessageTemplate,
  Regarding,
  SendMessageCommand,
  TemplateComponent,
  TemplateParameter,
  TemplateParameterType,
  TemplateSend,
  TemplateValues,
} from "../api/contract";
import { type StringKey, localize } from "../strings/strings";

/**
 * The template picker's logic, without React: which templates match the search, the fields a template
 * needs (one per `parameters` entry), what the record can fill in, the live preview, whether it can
 * be sent, and Send's body. Templates are made of a header, a body, a footer and buttons; `{{name}}`
 * (NAMED) or `{{1}}` (POSITIONAL) placeholders in them take the values (Meta's "Template components":
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/templates/components).
 */

/** One template of the list: its name and language (a name comes in several languages). */
export function templateKey(template: Pick<MessageTemplate, "name" | "language">): string {
  return `${template.name}|${template.language}`;
}

export function findTemplate(templates: readonly MessageTemplate[] | undefined, key: string | undefined): MessageTemplate | undefined {
  return key === undefined ? undefined : templates?.find((template) => templateKey(template) === key);
}

// Search.

function searchable(text: string): string {
  return text.toLowerCase().replace(/[_\s-]+/g, " ").trim();
}

/** The approved templates whose name contains the search (underscores and spaces alike), in the language chosen ("" for all). */
export function filterTemplates(templates: readonly MessageTemplate[], search: string, language = ""): MessageTemplate[] {
  const wanted = searchable(search);
  return templates.filter(
    (template) =>
      (!template.status || template.status === "APPROVED") &&
      (language === "" || template.language === language) &&
      (wanted === "" || searchable(template.name).includes(wanted)),
  );
}

/** "en_US" as the agent reads it, "English (United States)"; the code itself where the browser has no name for it. */
export function languageLabel(code: string, locale?: string): string {
  try {
    const names = new Intl.DisplayNames(locale ? [locale] : undefined, { type: "language", languageDisplay: "standard" });
    return names.of(code.replace(/_/g, "-")) ?? code;
  } catch {
    return code;
  }
}

/** The languages the templates come in, as the language filter offers them (by their names). */
export function templateLanguages(templates: readonly MessageTemplate[], locale?: string): { code: string; label: string }[] {
  const codes = [...new Set(templates.map((template) => template.language))];
  return codes.map((code) => ({ code, label: languageLabel(code, locale) })).sort((a, b) => a.label.localeCompare(b.label));
}

const CATEGORY_KEYS: Record<string, StringKey> = {
  UTILITY: "Category_UTILITY",
  MARKETING: "Category_MARKETING",
  AUTHENTICATION: "Category_AUTHENTICATION",
};

/** "Utility", "Marketing", "Authentication" (Meta's categories), for the badge. */
export function categoryLabel(category: string | null | undefined): string {
  const key = category ? CATEGORY_KEYS[category.toUpperCase()] : undefined;
  if (key) return localize(key);
  const word = (category ?? "").toLowerCase();
  return word ? word[0]?.toUpperCase() + word.slice(1) : "";
}

export function isMarketing(template: Pick<MessageTemplate, "category">): boolean {
  return template.category.toUpperCase() === "MARKETING";
}

// Fields.

/** What the agent fills in for one of the template's parameters. */
export interface TemplateField {
  /** Unique in the template: `body:first_name`, `body:2`, `header:media`, `button:0:1`. */
  key: string;
  parameter: TemplateParameter;
  label: string;
  /** The placeholder as the template text has it (`{{first_name}}`, `{{1}}`); absent for a media header. */
  token?: string;
  /** The words around the placeholder, for a POSITIONAL one (its number says little). */
  around?: string;
  example?: string;
  /** A media header: the value is one of our uploads' URL. */
  media?: Exclude<TemplateParameterType, "text">;
}

function parameterToken(parameter: TemplateParameter): string | undefined {
  if (parameter.type !== "text") return undefined;
  if (parameter.name) return `{{${parameter.name}}}`;
  return parameter.index !== null && parameter.index !== undefined ? `{{${parameter.index}}}` : undefined;
}

/** A NAMED header's `{{order_id}}` when the body has an `{{order_id}}` too: one value for both. */
function sharesBodyName(template: MessageTemplate, parameter: TemplateParameter): boolean {
  return (
    parameter.component === "header" &&
    parameter.type === "text" &&
    !!parameter.name &&
    (template.parameters ?? []).some((other) => other.component === "body" && other.type === "text" && other.name === parameter.name)
  );
}

/** The field a parameter's value comes from: `body:first_name`, `body:2`, `header:media`, `button:0:1`. */
function fieldKey(template: MessageTemplate, parameter: TemplateParameter): string {
  const which = parameter.type !== "text" ? "media" : (parameter.name ?? String(parameter.index ?? ""));
  if (parameter.component === "button") return `button:${parameter.buttonIndex ?? 0}:${which}`;
  return sharesBodyName(template, parameter) ? `body:${which}` : `${parameter.component}:${which}`;
}

/** "first_name" as a label: "First name". */
export function humanize(name: string): string {
  const words = name.replace(/[_-]+/g, " ").replace(/([a-z])([A-Z])/g, "$1 $2").trim().toLowerCase();
  return words ? words[0]?.toUpperCase() + words.slice(1) : name;
}

function component(template: MessageTemplate, type: string): TemplateComponent | undefined {
  return template.components?.find((part) => part.type?.toUpperCase() === type);
}

function button(template: MessageTemplate, index: number): { type: string; text?: string; url?: string } | undefined {
  return component(template, "BUTTONS")?.buttons?.[index];
}

/** The text a component's placeholders sit in: the header's or the body's, or a button's URL. */
function componentText(template: MessageTemplate, parameter: TemplateParameter): string | undefined {
  if (parameter.component === "button") {
    const found = button(template, parameter.buttonIndex ?? 0);
    return found?.url ?? found?.text;
  }
  return component(template, parameter.component.toUpperCase())?.text;
}

/** "…your order {{2}} ships today…": the words either side of the placeholder, about 30 characters each. */
function wordsAround(text: string | undefined, token: string): string | undefined {
  if (!text) return undefined;
  const at = text.indexOf(token);
  if (at < 0) return undefined;
  const reach = 30;
  let before = text.slice(0, at);
  let after = text.slice(at + token.length);
  if (before.length > reach) before = `…${before.slice(-reach).replace(/^\S*\s+/, "")}`;
  if (after.length > reach) after = `${after.slice(0, reach).replace(/\s+\S*$/, "")}…`;
  return `${before}${token}${after}`.replace(/\s+/g, " ").trim();
}

const MEDIA_LABELS: Record<Exclude<TemplateParameterType, "text">, StringKey> = {
  image: "Template_Field_HeaderImage",
  video: "Template_Field_HeaderVideo",
  document: "Template_Field_HeaderDocument",
};

function fieldLabel(template: MessageTemplate, parameter: TemplateParameter, token: string | undefined): string {
  if (parameter.type !== "text") return localize(MEDIA_LABELS[parameter.type]);
  if (parameter.component === "button") {
    const text = button(template, parameter.buttonIndex ?? 0)?.text;
    return text ? localize("Template_Field_Button", text) : localize("Template_Field_ButtonNumber", (parameter.buttonIndex ?? 0) + 1);
  }
  if (parameter.name) {
    const label = humanize(parameter.name);
    return parameter.component === "header" && !sharesBodyName(template, parameter) ? localize("Template_Field_Header", label) : label;
  }
  return localize(parameter.component === "header" ? "Template_Field_HeaderPosition" : "Template_Field_BodyPosition", token ?? "");
}

/** The fields to fill in, in the order the customer reads them: header, body, then buttons. */
export function templateFields(template: MessageTemplate): TemplateField[] {
  const order = { header: 0, body: 1, button: 2 } as const;
  const sorted = [...(template.parameters ?? [])].sort(
    (a, b) => order[a.component] - order[b.component] || (a.buttonIndex ?? 0) - (b.buttonIndex ?? 0) || (a.index ?? 0) - (b.index ?? 0),
  );
  const seen = new Set<string>();
  const fields: TemplateField[] = [];
  for (const parameter of sorted) {
    const key = fieldKey(template, parameter);
    if (seen.has(key)) continue;
    seen.add(key);
    const token = parameterToken(parameter);
    const text = componentText(template, parameter);
    fields.push({
      key,
      parameter,
      label: fieldLabel(template, parameter, token),
      token,
      // A named placeholder says what it is; a number needs its words, and a button its URL.
      around: token && (!parameter.name || parameter.component === "button") ? wordsAround(text, token) : undefined,
      example: parameter.example?.trim() || undefined,
      media: parameter.type === "text" ? undefined : parameter.type,
    });
  }
  return fields;
}

// What the record already knows.

/** What the form's record says about the customer, for prefilling (bound columns of the control). */
export interface RecordFacts {
  firstName?: string;
}

// A named parameter that is the customer's first name; "name" alone too (a greeting uses the first name).
const FIRST_NAME_PARAMETER = /^(first_?name|firstname|given_?name|name|customer_?(first_?)?name|contact_?(first_?)?name|client_?name|vorname|nombre|prenom|nome)$/i;
// A numbered placeholder right after a greeting ("Hi {{1}},") is the customer's name.
const GREETING_BEFORE = /(?:^|[\s,.!])(hi|hello|hey|dear|hallo|hola|bonjour|olá|ola|ciao|hej|salut|guten tag)[,!]?\s*$/i;

/** Whether a field asks for the customer's first name: its name says so, or (numbered) it follows a greeting. */
export function asksForFirstName(template: MessageTemplate, field: TemplateField): boolean {
  if (field.media || field.parameter.component === "button" || !field.token) return false;
  if (field.parameter.name) return FIRST_NAME_PARAMETER.test(field.parameter.name);
  const text = componentText(template, field.parameter);
  const at = text?.indexOf(field.token) ?? -1;
  return text !== undefined && at >= 0 && GREETING_BEFORE.test(text.slice(0, at));
}

/** The values the record gives, by field key (always editable), and which fields they are. */
export function prefillValues(template: MessageTemplate, facts: RecordFacts | undefined): { values: Record<string, string>; prefilled: string[] } {
  const values: Record<string, string> = {};
  const prefilled: string[] = [];
  const firstName = facts?.firstName?.trim();
  if (firstName) {
    for (const field of templateFields(template)) {
      if (asksForFirstName(template, field)) {
        values[field.key] = firstName;
        prefilled.push(field.key);
      }
    }
  }
  return { values, prefilled };
}

// Validation.

/** The fields still empty: Send waits for every one. */
export function missingFields(template: MessageTemplate, values: Readonly<Record<string, string>>): TemplateField[] {
  return templateFields(template).filter((field) => !(values[field.key] ?? "").trim());
}

// The preview.

/** A run of the preview: the template's own words, a value filled in, or a placeholder still empty. */
export type PreviewPiece =
  | { kind: "literal"; text: string }
  | { kind: "value"; text: string; key: string }
  | { kind: "missing"; text: string; key: string };

export interface TemplatePreview {
  /** A media header: what it is, and the uploaded file when there is one. */
  headerMedia?: { type: Exclude<TemplateParameterType, "text">; key: string; value?: string };
  header?: PreviewPiece[];
  body: PreviewPiece[];
  footer?: PreviewPiece[];
  buttons: string[];
}

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;

/** A part's text with its placeholders as pieces: each takes the value of the field its parameter (of this part) comes from. */
function fill(template: MessageTemplate, text: string, parameters: readonly TemplateParameter[], values: Readonly<Record<string, string>>): PreviewPiece[] {
  const pieces: PreviewPiece[] = [];
  let last = 0;
  for (const match of text.matchAll(PLACEHOLDER)) {
    const at = match.index ?? 0;
    if (at > last) pieces.push({ kind: "literal", text: text.slice(last, at) });
    last = at + match[0].length;
    const name = match[1] ?? "";
    const parameter = parameters.find((candidate) => candidate.type === "text" && (candidate.name === name || (!candidate.name && String(candidate.index) === name)));
    const key = parameter ? fieldKey(template, parameter) : undefined;
    const value = key ? (values[key] ?? "") : "";
    if (!key) pieces.push({ kind: "literal", text: match[0] });
    else if (value.trim()) pieces.push({ kind: "value", text: value, key });
    else pieces.push({ kind: "missing", text: match[0].replace(/\s+/g, ""), key });
  }
  if (last < text.length) pieces.push({ kind: "literal", text: text.slice(last) });
  return pieces;
}

/**
 * What the customer will get, with the values typed so far: from the template's components (each
 * part's placeholders take that part's values: a POSITIONAL header's `{{1}}` is not the body's), else
 * from its `preview` text.
 */
export function templatePreview(template: MessageTemplate, values: Readonly<Record<string, string>>): TemplatePreview {
  const fields = templateFields(template);
  const of = (part: TemplateParameter["component"]): TemplateParameter[] => (template.parameters ?? []).filter((parameter) => parameter.component === part);
  const header = component(template, "HEADER");
  const body = component(template, "BODY");
  const footer = component(template, "FOOTER");
  const media = fields.find((field) => field.media && field.parameter.component === "header");
  const buttons = (component(template, "BUTTONS")?.buttons ?? []).map((found) => found.text ?? "").filter((text) => text.trim());
  if (!body?.text) {
    // No components to go by: the preview text, its placeholders filled by name or number (the body's first).
    const byBodyFirst = [...of("body"), ...of("header")];
    return { body: fill(template, template.preview ?? "", byBodyFirst, values), buttons, headerMedia: media?.media ? { type: media.media, key: media.key, value: values[media.key] } : undefined };
  }
  return {
    headerMedia: media?.media ? { type: media.media, key: media.key, value: values[media.key] } : undefined,
    header: header?.text && (header.format ?? "TEXT").toUpperCase() === "TEXT" ? fill(template, header.text, of("header"), values) : undefined,
    body: fill(template, body.text, of("body"), values),
    footer: footer?.text ? fill(template, footer.text, [], values) : undefined,
    buttons,
  };
}

/** The preview as one text: the header, body and footer joined by a blank line (as the message's text will read). */
export function previewText(preview: TemplatePreview): string {
  const text = (pieces: PreviewPiece[] | undefined): string => (pieces ?? []).map((piece) => piece.text).join("");
  return [text(preview.header), text(preview.body), text(preview.footer)].filter((part) => part.trim()).join("\n\n");
}

// Sending.

function componentValues(template: MessageTemplate, part: "header" | "body", values: Readonly<Record<string, string>>): TemplateValues | undefined {
  const parameters = (template.parameters ?? []).filter((parameter) => parameter.component === part);
  if (parameters.length === 0) return undefined;
  const value = (parameter: TemplateParameter): string => values[fieldKey(template, parameter)] ?? "";
  const media = parameters.find((parameter) => parameter.type !== "text");
  if (media) return [{ mediaUrl: value(media).trim() }];
  if (template.parameterFormat === "NAMED") return Object.fromEntries(parameters.map((parameter) => [parameter.name ?? "", value(parameter)]));
  return [...parameters].sort((a, b) => (a.index ?? 0) - (b.index ?? 0)).map(value);
}

/**
 * The `template` of Send's body: header and body values by name (NAMED) or in order (POSITIONAL), a
 * media header as one of our uploads, buttons by index. A NAMED header's placeholder that the body
 * has too takes the same value.
 */
export function templateSend(template: MessageTemplate, values: Readonly<Record<string, string>>): TemplateSend {
  const parameters: TemplateSend["parameters"] = {};
  const header = componentValues(template, "header", values);
  const body = componentValues(template, "body", values);
  const buttons = (template.parameters ?? [])
    .filter((parameter) => parameter.component === "button")
    .map((parameter) => ({ index: parameter.buttonIndex ?? 0, value: values[fieldKey(template, parameter)] ?? "" }));
  if (header) parameters.header = header;
  if (body) parameters.body = body;
  if (buttons.length > 0) parameters.buttons = buttons;
  return { name: template.name, language: template.language, parameters };
}

/** Send's whole body for the template. */
export function templateCommand(template: MessageTemplate, values: Readonly<Record<string, string>>, clientMessageId: string, regarding?: Regarding): SendMessageCommand {
  return { type: "template", template: templateSend(template, values), clientMessageId, ...(regarding ? { regarding } : {}) };
}

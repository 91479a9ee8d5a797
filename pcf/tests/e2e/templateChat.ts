/**
 * A business number with a long list of approved templates (several languages, the three categories,
 * a photo header), and a stand-in for the API's template routes, Send (templates and reactions), read
 * and typing, answered by the browser (a Playwright route) over a chat the test gives. The journey
 * uses it for the screenshots of the picker, a long chat, a refusal and the dark theme, which must not
 * depend on what the local app's sandbox offers.
 */
import type { Page, Request, Route } from "playwright-core";
import type { ChatMessage, MessageTemplate, Reaction, SendMessageCommand, SessionStatus, TemplateParameter } from "../../WhatsAppChat/api/contract";

function text(component: "header" | "body" | "button", name: string | null, index: number | null, example: string, buttonIndex: number | null = null): TemplateParameter {
  return { component, name, index, buttonIndex, type: "text", example };
}

interface Spec {
  name: string;
  language?: string;
  category?: MessageTemplate["category"];
  header?: string | "IMAGE" | "DOCUMENT";
  body: string;
  footer?: string;
  buttons?: { type: string; text: string; url?: string }[];
  parameters?: TemplateParameter[];
}

function template(spec: Spec): MessageTemplate {
  const named = (spec.parameters ?? []).some((parameter) => parameter.name);
  const components: MessageTemplate["components"] = [];
  if (spec.header === "IMAGE" || spec.header === "DOCUMENT") components.push({ type: "HEADER", format: spec.header });
  else if (spec.header) components.push({ type: "HEADER", format: "TEXT", text: spec.header });
  components.push({ type: "BODY", text: spec.body });
  if (spec.footer) components.push({ type: "FOOTER", text: spec.footer });
  if (spec.buttons) components.push({ type: "BUTTONS", buttons: spec.buttons });
  const textHeader = spec.header && spec.header !== "IMAGE" && spec.header !== "DOCUMENT" ? spec.header : undefined;
  return {
    name: spec.name,
    language: spec.language ?? "en_US",
    category: spec.category ?? "UTILITY",
    status: "APPROVED",
    parameterFormat: named ? "NAMED" : "POSITIONAL",
    components,
    parameters: spec.parameters ?? [],
    preview: [textHeader, spec.body, spec.footer].filter(Boolean).join("\n\n"),
  };
}

const image = (): TemplateParameter => ({ component: "header", name: null, index: null, buttonIndex: null, type: "image", example: null });
const document = (): TemplateParameter => ({ component: "header", name: null, index: null, buttonIndex: null, type: "document", example: null });

/** About forty templates, sorted by name then language as the API sorts them. */
export const TEMPLATE_LIST: MessageTemplate[] = [
  template({ name: "account_login_code", category: "AUTHENTICATION", body: "{{1}} is your verification code. For your security, do not share this code.", buttons: [{ type: "URL", text: "Copy code", url: "https://www.whatsapp.com/otp/code/?otp_type=COPY_CODE&code=otp{{1}}" }], parameters: [text("body", null, 1, "482913"), text("button", null, 1, "482913", 0)] }),
  template({ name: "appointment_reminder", language: "de_DE", header: "Termin {{1}}", body: "Hallo {{2}}, wir sehen uns am {{3}} um {{4}}.", parameters: [text("header", null, 1, "A-17"), text("body", null, 2, "Ada"), text("body", null, 3, "Montag"), text("body", null, 4, "10:00")] }),
  template({ name: "appointment_reminder", language: "en_GB", header: "Appointment {{1}}", body: "Hello {{1}}, see you on {{2}} at {{3}}. Reply CHANGE to move it.", parameters: [text("header", null, 1, "A-17"), text("body", null, 1, "Ada"), text("body", null, 2, "Monday"), text("body", null, 3, "10:00")] }),
  template({ name: "appointment_reminder", language: "es_ES", header: "Cita {{1}}", body: "Hola {{1}}, te esperamos el {{2}} a las {{3}}.", parameters: [text("header", null, 1, "A-17"), text("body", null, 1, "Ada"), text("body", null, 2, "lunes"), text("body", null, 3, "10:00")] }),
  template({ name: "back_in_stock", category: "MARKETING", header: "IMAGE", body: "Good news, {{first_name}}: the {{product}} is back in stock. Order today for next-day delivery.", buttons: [{ type: "QUICK_REPLY", text: "Stop promotions" }], parameters: [image(), text("body", "first_name", null, "Ada"), text("body", "product", null, "large double-wall box")] }),
  template({ name: "collection_ready", body: "Your parcel {{1}} is ready to collect at {{2}} until {{3}}.", parameters: [text("body", null, 1, "PX-40213"), text("body", null, 2, "the Leeds depot"), text("body", null, 3, "6 pm")] }),
  template({ name: "delivery_failed", body: "We tried to deliver your parcel {{1}} today but nobody was in. Choose a new day below.", buttons: [{ type: "URL", text: "Choose a day", url: "https://parcel.example/redeliver/{{1}}" }], parameters: [text("body", null, 1, "PX-40213"), text("button", null, 1, "PX-40213", 0)] }),
  template({ name: "delivery_reminder", body: "Hi {{1}}, your parcel arrives tomorrow between {{2}}.", parameters: [text("body", null, 1, "Ada"), text("body", null, 2, "9 am and 12 pm")] }),
  template({ name: "delivery_window", language: "en_GB", body: "Your delivery slot is {{slot}}. Reply here if that doesn't suit you.", parameters: [text("body", "slot", null, "Tuesday 9–12")] }),
  template({ name: "feedback_request", category: "MARKETING", body: "Hi {{first_name}}, how did we do? Tap below to rate your delivery.", buttons: [{ type: "URL", text: "Rate us", url: "https://parcel.example/rate" }], parameters: [text("body", "first_name", null, "Ada")] }),
  template({ name: "invoice_ready", header: "DOCUMENT", body: "Your invoice {{invoice_number}} for {{amount}} is attached.", parameters: [document(), text("body", "invoice_number", null, "INV-2211"), text("body", "amount", null, "£42.00")] }),
  template({ name: "loyalty_points", category: "MARKETING", body: "{{first_name}}, you have {{points}} points to spend before {{date}}.", parameters: [text("body", "first_name", null, "Ada"), text("body", "points", null, "1,250"), text("body", "date", null, "30 June")] }),
  template({ name: "order_cancelled", body: "Your order {{order_id}} was cancelled and you won't be charged.", parameters: [text("body", "order_id", null, "40213")] }),
  template({ name: "order_confirmation", language: "en_GB", body: "Thank you {{first_name}}! Order {{order_id}} is confirmed.", parameters: [text("body", "first_name", null, "Ada"), text("body", "order_id", null, "40213")] }),
  template({ name: "order_confirmation", language: "fr_FR", body: "Merci {{first_name}} ! La commande {{order_id}} est confirmée.", parameters: [text("body", "first_name", null, "Ada"), text("body", "order_id", null, "40213")] }),
  template({ name: "order_delayed", body: "Sorry {{first_name}}, order {{order_id}} is delayed by {{days}} days. We'll message you when it ships.", parameters: [text("body", "first_name", null, "Ada"), text("body", "order_id", null, "40213"), text("body", "days", null, "2")] }),
  template({ name: "order_refund_issued", body: "We've refunded {{amount}} for order {{order_id}}. It reaches your account in 3–5 days.", parameters: [text("body", "amount", null, "£42.00"), text("body", "order_id", null, "40213")] }),
  template({
    name: "order_update",
    header: "Order {{order_id}}",
    body: "Hi {{first_name}}, your order {{order_id}} ships today. It should arrive by {{arrival_date}}.",
    footer: "Parcel & Co. · Reply STOP to opt out",
    buttons: [{ type: "URL", text: "Track order", url: "https://parcel.example/track/{{1}}" }],
    parameters: [text("header", "order_id", null, "40213"), text("body", "first_name", null, "Ada"), text("body", "order_id", null, "40213"), text("body", "arrival_date", null, "Friday"), text("button", null, 1, "40213", 0)],
  }),
  template({ name: "password_reset_code", category: "AUTHENTICATION", body: "{{1}} is your password reset code. It expires in 10 minutes.", parameters: [text("body", null, 1, "771204")] }),
  template({ name: "payment_overdue", body: "Hi {{1}}, invoice {{2}} for {{3}} is overdue. Pay securely below.", buttons: [{ type: "URL", text: "Pay now", url: "https://parcel.example/pay/{{1}}" }], parameters: [text("body", null, 1, "Ada"), text("body", null, 2, "INV-2211"), text("body", null, 3, "£42.00"), text("button", null, 1, "INV-2211", 0)] }),
  template({ name: "payment_received", body: "We received your payment of {{1}}. Thank you!", parameters: [text("body", null, 1, "£42.00")] }),
  template({ name: "pickup_scheduled", body: "A courier collects your return on {{1}}.", parameters: [text("body", null, 1, "Thursday")] }),
  template({ name: "return_label", header: "DOCUMENT", body: "Here is the return label for order {{1}}. Print it and stick it on the box.", parameters: [document(), text("body", null, 1, "40213")] }),
  template({ name: "spring_sale", category: "MARKETING", header: "IMAGE", body: "{{name}}, parcel boxes are 20% off until {{end_date}}!", buttons: [{ type: "QUICK_REPLY", text: "Stop promotions" }], parameters: [image(), text("body", "name", null, "Ada"), text("body", "end_date", null, "31 May")] }),
  template({ name: "subscription_renewal", body: "Your plan renews on {{1}} for {{2}}.", parameters: [text("body", null, 1, "1 July"), text("body", null, 2, "£9.99")] }),
  template({ name: "summer_sale", category: "MARKETING", body: "Summer sale: everything 15% off this week with code {{code}}.", parameters: [text("body", "code", null, "SUMMER15")] }),
  template({ name: "survey_invite", category: "MARKETING", body: "Got two minutes? Tell us how we can improve." }),
  template({ name: "welcome_back", body: "Welcome back! Reply to this message to continue where you left off." }),
  template({ name: "welcome_message", language: "en_GB", body: "Hi {{1}}, thanks for contacting Parcel & Co. An agent will reply shortly.", parameters: [text("body", null, 1, "Ada")] }),
  template({ name: "welcome_message", language: "es_ES", body: "Hola {{1}}, gracias por contactar con Parcel & Co.", parameters: [text("body", null, 1, "Ada")] }),
];

/** The text WhatsApp shows, as the API renders it: the header, body and footer with the values in. */
export function renderTemplate(found: MessageTemplate, parameters: NonNullable<SendMessageCommand["template"]>["parameters"]): string {
  const fill = (content: string | undefined, values: unknown): string => {
    if (!content) return "";
    return content.replace(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g, (whole, key: string) => {
      if (Array.isArray(values)) return String((values as unknown[])[Number(key) - 1] ?? whole);
      if (values && typeof values === "object") return String((values as Record<string, unknown>)[key] ?? whole);
      return whole;
    });
  };
  const part = (type: string) => found.components.find((component) => component.type === type);
  const header = part("HEADER");
  return [header?.format === "TEXT" ? fill(header.text, parameters.header) : "", fill(part("BODY")?.text, parameters.body), part("FOOTER")?.text ?? ""]
    .filter((piece) => piece.trim())
    .join("\n\n");
}

export interface FakeApiOptions {
  customer: string;
  origin: string;
  session: SessionStatus;
  /** Newest first. */
  messages: ChatMessage[];
  templates?: MessageTemplate[];
  /** A photo for the media header previews and messages (served by the route too). */
  mediaUrl?: string;
}

/** What the fake API was asked, for the checks. */
export interface FakeApi {
  sent: SendMessageCommand[];
  reads: number;
  typings: number;
  messages: ChatMessage[];
  /** Stops answering. */
  stop(): Promise<void>;
}

/** Answers the panel's calls about one customer (and GET /api/templates) from memory, as the API would. */
export async function fakeTemplateApi(page: Page, options: FakeApiOptions): Promise<FakeApi> {
  const state: FakeApi = { sent: [], reads: 0, typings: 0, messages: [...options.messages], stop: () => Promise.resolve() };
  const templates = options.templates ?? TEMPLATE_LIST;
  let sequence = 0;
  const answer = (route: Route, status: number, body: unknown): Promise<void> =>
    route.fulfill({ status, contentType: "application/json", headers: { "Access-Control-Allow-Origin": options.origin }, body: JSON.stringify(body) });
  const now = (): string => new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace(".000Z", "Z");

  const send = (route: Route, request: Request): Promise<void> => {
    const command = JSON.parse(request.postData() ?? "{}") as SendMessageCommand;
    state.sent.push(command);
    const base = { phoneNumberId: "106540352242922", customerId: options.customer, direction: "outbound" as const, timestamp: now(), status: "sent" as const, statusTimes: { sent: now() }, sentBy: "agent@contoso.example" };
    if (command.type === "reaction" && command.reaction) {
      const target = state.messages.find((message) => message.id === command.reaction?.messageId);
      if (!target) return answer(route, 400, { error: { code: "invalid_request", message: "messageId names no message of this conversation" } });
      const others: Reaction[] = (target.reactions ?? []).filter((reaction) => reaction.from !== "business");
      target.reactions = command.reaction.emoji ? [...others, { emoji: command.reaction.emoji, from: "business", at: now() }] : others;
      return answer(route, 202, { ...base, id: `react-${++sequence}`, kind: "reaction", text: command.reaction.emoji });
    }
    if (command.type === "template" && command.template) {
      const wanted = command.template;
      const found = templates.find((candidate) => candidate.name === wanted.name && candidate.language === wanted.language);
      if (!found) return answer(route, 400, { error: { code: "template_not_found", message: `no APPROVED template ${wanted.name} (${wanted.language})` } });
      if (found.category === "MARKETING" && options.session.marketingOptOut) {
        return answer(route, 409, { error: { code: "marketing_opt_out", message: "The customer asked WhatsApp to stop marketing messages from this business." } });
      }
      const header = wanted.parameters.header;
      const photo = Array.isArray(header) && typeof header[0] === "object" ? (header[0] as { mediaUrl: string }).mediaUrl : undefined;
      const message: ChatMessage = {
        ...base,
        id: command.clientMessageId ?? `tpl-${++sequence}`,
        kind: "template",
        text: renderTemplate(found, wanted.parameters),
        template: { name: found.name, language: found.language, category: found.category },
        ...(photo && options.mediaUrl ? { media: { url: options.mediaUrl, mimeType: "image/png", blobName: "outbound/template-header.png", status: "stored" } } : {}),
      };
      state.messages.unshift(message);
      return answer(route, 202, message);
    }
    return answer(route, 400, { error: { code: "invalid_request", message: "only templates and reactions here" } });
  };

  const handler = (route: Route): Promise<void> => {
    const request = route.request();
    const url = new URL(request.url());
    if (url.pathname.endsWith("/api/templates")) return answer(route, 200, { templates });
    if (url.pathname.endsWith("/api/media") && request.method() === "POST") {
      // Any file is a photo here (the real API sniffs the bytes).
      const mediaUrl = options.mediaUrl ?? "https://media.example.test/media/outbound/upload.png";
      return answer(route, 201, { mediaUrl, blobName: "outbound/upload.png", mimeType: "image/png", kind: "image", size: 1, sha256: "x", filename: "photo.png" });
    }
    if (url.pathname.endsWith("/session")) return answer(route, 200, options.session);
    if (url.pathname.endsWith("/read")) {
      state.reads += 1;
      return answer(route, 200, { sent: true, messageId: state.messages.find((m) => m.direction === "inbound")?.id ?? null, agentReadAt: new Date().toISOString() });
    }
    if (url.pathname.endsWith("/typing")) {
      state.typings += 1;
      return answer(route, 202, { sent: true });
    }
    if (url.pathname.endsWith("/messages") && request.method() === "POST") return send(route, request);
    if (url.pathname.endsWith("/messages")) return answer(route, 200, { messages: state.messages, next: null, pollCursor: `fake-${state.messages.length}-${sequence}` });
    return route.fallback();
  };
  const matches = (url: URL): boolean =>
    url.pathname.endsWith("/api/templates") || url.pathname.endsWith("/api/media") || url.pathname.includes(`/conversations/${options.customer}/`);
  await page.route(matches, handler);
  state.stop = () => page.unroute(matches, handler);
  return state;
}

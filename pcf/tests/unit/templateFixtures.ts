import type { MessageTemplate, TemplateParameter } from "../../WhatsAppChat/api/contract";

/** A parameter as GET /api/templates lists it; only what a test cares about needs saying. */
export function parameter(overrides: Partial<TemplateParameter>): TemplateParameter {
  return { component: "body", name: null, index: null, buttonIndex: null, type: "text", example: null, ...overrides };
}

/** NAMED, with a URL button: "Hi {{first_name}}, your order {{order_id}} ships today." */
export const ORDER_UPDATE: MessageTemplate = {
  name: "order_update",
  language: "en_US",
  category: "UTILITY",
  status: "APPROVED",
  parameterFormat: "NAMED",
  components: [
    {
      type: "BODY",
      text: "Hi {{first_name}}, your order {{order_id}} ships today.",
      example: { body_text_named_params: [{ param_name: "first_name", example: "Ada" }, { param_name: "order_id", example: "1234" }] },
    },
    { type: "FOOTER", text: "Parcel & Co." },
    { type: "BUTTONS", buttons: [{ type: "URL", text: "Track order", url: "https://parcel.example/track/{{1}}", example: ["https://parcel.example/track/1234"] }] },
  ],
  parameters: [
    parameter({ name: "first_name", example: "Ada" }),
    parameter({ name: "order_id", example: "1234" }),
    parameter({ component: "button", index: 1, buttonIndex: 0, example: "1234" }),
  ],
  preview: "Hi {{first_name}}, your order {{order_id}} ships today.\n\nParcel & Co.",
};

/** POSITIONAL, with a text header: its {{1}} is not the body's {{1}}. */
export const APPOINTMENT: MessageTemplate = {
  name: "appointment_reminder",
  language: "en_GB",
  category: "UTILITY",
  status: "APPROVED",
  parameterFormat: "POSITIONAL",
  components: [
    { type: "HEADER", format: "TEXT", text: "Appointment {{1}}", example: { header_text: ["A-17"] } },
    { type: "BODY", text: "Hello {{1}}, see you on {{2}} at {{3}}.", example: { body_text: [["Ada", "Monday", "10:00"]] } },
  ],
  parameters: [
    parameter({ component: "header", index: 1, example: "A-17" }),
    parameter({ index: 1, example: "Ada" }),
    parameter({ index: 2, example: "Monday" }),
    parameter({ index: 3, example: "10:00" }),
  ],
  preview: "Appointment {{1}}\n\nHello {{1}}, see you on {{2}} at {{3}}.",
};

export const APPOINTMENT_ES: MessageTemplate = {
  ...APPOINTMENT,
  language: "es_ES",
  components: [
    { type: "HEADER", format: "TEXT", text: "Cita {{1}}" },
    { type: "BODY", text: "Hola {{1}}, te esperamos el {{2}} a las {{3}}." },
  ],
  preview: "Cita {{1}}\n\nHola {{1}}, te esperamos el {{2}} a las {{3}}.",
};

/** MARKETING, NAMED, with a photo header. */
export const SPRING_SALE: MessageTemplate = {
  name: "spring_sale",
  language: "en_US",
  category: "MARKETING",
  status: "APPROVED",
  parameterFormat: "NAMED",
  components: [
    { type: "HEADER", format: "IMAGE", example: { header_handle: ["4::aW1hZ2U="] } },
    { type: "BODY", text: "{{name}}, boxes are 20% off until {{end_date}}!" },
    { type: "BUTTONS", buttons: [{ type: "QUICK_REPLY", text: "Stop promotions" }] },
  ],
  parameters: [parameter({ component: "header", type: "image" }), parameter({ name: "name", example: "Ada" }), parameter({ name: "end_date", example: "31 May" })],
  preview: "{{name}}, boxes are 20% off until {{end_date}}!",
};

/** AUTHENTICATION: a code in the body and the same code for its copy button. */
export const LOGIN_CODE: MessageTemplate = {
  name: "login_code",
  language: "en_US",
  category: "AUTHENTICATION",
  status: "APPROVED",
  parameterFormat: "POSITIONAL",
  components: [
    { type: "BODY", text: "{{1}} is your verification code." },
    { type: "BUTTONS", buttons: [{ type: "URL", text: "Copy code", url: "https://www.whatsapp.com/otp/code/?otp_type=COPY_CODE&code=otp{{1}}" }] },
  ],
  parameters: [parameter({ index: 1, example: "123456" }), parameter({ component: "button", index: 1, buttonIndex: 0, example: "123456" })],
  preview: "{{1}} is your verification code.",
};

/** Nothing to fill in. */
export const WELCOME_BACK: MessageTemplate = {
  name: "welcome_back",
  language: "en_US",
  category: "UTILITY",
  status: "APPROVED",
  parameterFormat: "POSITIONAL",
  components: [{ type: "BODY", text: "Welcome back! Reply to this message to continue." }],
  parameters: [],
  preview: "Welcome back! Reply to this message to continue.",
};

export const TEMPLATES: MessageTemplate[] = [APPOINTMENT, APPOINTMENT_ES, LOGIN_CODE, ORDER_UPDATE, SPRING_SALE, WELCOME_BACK];

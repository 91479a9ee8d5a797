import { describe, expect, it } from "vitest";
import {
  asksForFirstName,
  categoryLabel,
  filterTemplates,
  languageLabel,
  missingFields,
  prefillValues,
  previewText,
  templateCommand,
  templateFields,
  templateKey,
  templateLanguages,
  templatePreview,
} from "../../WhatsAppChat/model/templates";
import { APPOINTMENT, APPOINTMENT_ES, LOGIN_CODE, ORDER_UPDATE, SPRING_SALE, TEMPLATES, WELCOME_BACK } from "./templateFixtures";

const names = (list: { name: string; language: string }[]): string[] => list.map((template) => `${template.name} ${template.language}`);

describe("searching the approved templates", () => {
  it("finds templates by a part of their name, whatever the case, with spaces for underscores", () => {
    expect(names(filterTemplates(TEMPLATES, "order"))).toEqual(["order_update en_US"]);
    expect(names(filterTemplates(TEMPLATES, "  ORDER Up"))).toEqual(["order_update en_US"]);
    expect(names(filterTemplates(TEMPLATES, "appointment reminder"))).toEqual(["appointment_reminder en_GB", "appointment_reminder es_ES"]);
    expect(filterTemplates(TEMPLATES, "")).toHaveLength(TEMPLATES.length);
    expect(filterTemplates(TEMPLATES, "parcel")).toEqual([]); // the name, not the text
  });

  it("narrows to one language", () => {
    expect(names(filterTemplates(TEMPLATES, "appointment", "es_ES"))).toEqual(["appointment_reminder es_ES"]);
    expect(names(filterTemplates(TEMPLATES, "", "en_GB"))).toEqual(["appointment_reminder en_GB"]);
  });

  it("never offers a template that is not approved", () => {
    const paused = { ...ORDER_UPDATE, name: "order_paused", status: "PAUSED" };
    expect(names(filterTemplates([...TEMPLATES, paused], "order"))).toEqual(["order_update en_US"]);
  });

  it("names languages and categories as the agent reads them", () => {
    expect(languageLabel("en_US", "en")).toBe("English (United States)");
    expect(languageLabel("es_ES", "en")).toBe("Spanish (Spain)");
    expect(templateLanguages(TEMPLATES, "en").map((language) => language.code)).toEqual(["en_GB", "en_US", "es_ES"]);
    expect([categoryLabel("UTILITY"), categoryLabel("MARKETING"), categoryLabel("AUTHENTICATION"), categoryLabel("SERVICE")]).toEqual([
      "Utility",
      "Marketing",
      "Authentication",
      "Service",
    ]);
  });

  it("tells a name's languages apart", () => {
    expect(templateKey(APPOINTMENT)).not.toBe(templateKey(APPOINTMENT_ES));
  });
});

describe("a template's fields", () => {
  it("has one field per parameter, labelled by its name (NAMED) and with its example", () => {
    const fields = templateFields(ORDER_UPDATE);
    expect(fields.map((field) => [field.key, field.label, field.example])).toEqual([
      ["body:first_name", "First name", "Ada"],
      ["body:order_id", "Order id", "1234"],
      ["button:0:1", "“Track order” button", "1234"],
    ]);
    // The URL button's part: where it goes in the link.
    expect(fields[2]?.around).toBe("https://parcel.example/track/{{1}}");
  });

  it("labels numbered placeholders by where they are, with the words around them (a header's {{1}} is not the body's)", () => {
    const fields = templateFields(APPOINTMENT);
    expect(fields.map((field) => [field.key, field.label])).toEqual([
      ["header:1", "Header {{1}}"],
      ["body:1", "Body {{1}}"],
      ["body:2", "Body {{2}}"],
      ["body:3", "Body {{3}}"],
    ]);
    expect(fields[2]?.around).toBe("Hello {{1}}, see you on {{2}} at {{3}}.");
  });

  it("has a media header's field, and nothing to fill in for a template without parameters", () => {
    expect(templateFields(SPRING_SALE).map((field) => [field.key, field.label, field.media])).toEqual([
      ["header:media", "Header image", "image"],
      ["body:name", "Name", undefined],
      ["body:end_date", "End date", undefined],
    ]);
    expect(templateFields(WELCOME_BACK)).toEqual([]);
  });
});

describe("a NAMED header that repeats a body placeholder", () => {
  const shipped = {
    ...ORDER_UPDATE,
    components: [{ type: "HEADER", format: "TEXT", text: "Order {{order_id}}" }, ...ORDER_UPDATE.components],
    parameters: [{ component: "header" as const, name: "order_id", index: null, buttonIndex: null, type: "text" as const, example: "1234" }, ...ORDER_UPDATE.parameters],
  };

  it("asks for the value once, and gives it to both", () => {
    expect(templateFields(shipped).map((field) => [field.key, field.label])).toEqual([
      ["body:order_id", "Order id"],
      ["body:first_name", "First name"],
      ["button:0:1", "“Track order” button"],
    ]);
    const values = { "body:first_name": "Ada", "body:order_id": "77", "button:0:1": "77" };
    expect(previewText(templatePreview(shipped, values))).toBe("Order 77\n\nHi Ada, your order 77 ships today.\n\nParcel & Co.");
    expect(templateCommand(shipped, values, "c-1").template?.parameters).toEqual({
      header: { order_id: "77" },
      body: { first_name: "Ada", order_id: "77" },
      buttons: [{ index: 0, value: "77" }],
    });
  });
});

describe("prefilling what the record knows", () => {
  it("fills the customer's first name into a parameter named for it", () => {
    expect(prefillValues(ORDER_UPDATE, { firstName: " Ada " })).toEqual({ values: { "body:first_name": "Ada" }, prefilled: ["body:first_name"] });
    expect(prefillValues(SPRING_SALE, { firstName: "Ada" }).values).toEqual({ "body:name": "Ada" });
  });

  it("fills a numbered placeholder right after a greeting, and no other", () => {
    const fields = templateFields(APPOINTMENT);
    expect(fields.filter((field) => asksForFirstName(APPOINTMENT, field)).map((field) => field.key)).toEqual(["body:1"]);
    expect(prefillValues(APPOINTMENT, { firstName: "Ada" }).values).toEqual({ "body:1": "Ada" });
    expect(prefillValues(APPOINTMENT_ES, { firstName: "Ada" }).values).toEqual({ "body:1": "Ada" }); // "Hola {{1}}"
    expect(prefillValues(LOGIN_CODE, { firstName: "Ada" }).values).toEqual({}); // "{{1}} is your verification code."
  });

  it("fills nothing when the record has no first name", () => {
    expect(prefillValues(ORDER_UPDATE, {})).toEqual({ values: {}, prefilled: [] });
    expect(prefillValues(ORDER_UPDATE, { firstName: "   " })).toEqual({ values: {}, prefilled: [] });
    expect(prefillValues(ORDER_UPDATE, undefined)).toEqual({ values: {}, prefilled: [] });
  });
});

describe("whether a template can be sent", () => {
  it("waits for every field, and a blank one is not filled in", () => {
    expect(missingFields(ORDER_UPDATE, {}).map((field) => field.key)).toEqual(["body:first_name", "body:order_id", "button:0:1"]);
    expect(missingFields(ORDER_UPDATE, { "body:first_name": "Ada", "body:order_id": "  ", "button:0:1": "1234" }).map((field) => field.key)).toEqual(["body:order_id"]);
    expect(missingFields(ORDER_UPDATE, { "body:first_name": "Ada", "body:order_id": "1234", "button:0:1": "1234" })).toEqual([]);
    expect(missingFields(WELCOME_BACK, {})).toEqual([]);
  });

  it("waits for a media header's upload", () => {
    expect(missingFields(SPRING_SALE, { "body:name": "Ada", "body:end_date": "31 May" }).map((field) => field.key)).toEqual(["header:media"]);
  });
});

describe("the live preview", () => {
  it("shows the template's text with the values typed so far, and the placeholders still empty", () => {
    const preview = templatePreview(ORDER_UPDATE, { "body:first_name": "Ada" });
    expect(preview.body).toEqual([
      { kind: "literal", text: "Hi " },
      { kind: "value", text: "Ada", key: "body:first_name" },
      { kind: "literal", text: ", your order " },
      { kind: "missing", text: "{{order_id}}", key: "body:order_id" },
      { kind: "literal", text: " ships today." },
    ]);
    expect(preview.buttons).toEqual(["Track order"]);
    expect(previewText(preview)).toBe("Hi Ada, your order {{order_id}} ships today.\n\nParcel & Co.");
  });

  it("fills a header's {{1}} and the body's {{1}} each with its own value", () => {
    const preview = templatePreview(APPOINTMENT, { "header:1": "A-17", "body:1": "Ada", "body:2": "Monday", "body:3": "10:00" });
    expect(previewText(preview)).toBe("Appointment A-17\n\nHello Ada, see you on Monday at 10:00.");
  });

  it("shows a media header as what it is until a file is uploaded", () => {
    expect(templatePreview(SPRING_SALE, {}).headerMedia).toEqual({ type: "image", key: "header:media", value: undefined });
    expect(templatePreview(SPRING_SALE, { "header:media": "https://blob/x.png" }).headerMedia?.value).toBe("https://blob/x.png");
  });

  it("falls back to the preview text when the components say nothing", () => {
    const bare = { ...ORDER_UPDATE, components: [] };
    expect(previewText(templatePreview(bare, { "body:first_name": "Ada", "body:order_id": "77" }))).toBe("Hi Ada, your order 77 ships today.\n\nParcel & Co.");
  });
});

describe("Send's body for a template", () => {
  const record = { entity: "contact", id: "3f2504e0-4f89-11d3-9a0c-0305e82c3301" } as const;

  it("gives a NAMED template's values by name, and a button's by its index", () => {
    const values = { "body:first_name": "Ada", "body:order_id": "1234", "button:0:1": "1234" };
    expect(templateCommand(ORDER_UPDATE, values, "c-1", record)).toEqual({
      type: "template",
      template: { name: "order_update", language: "en_US", parameters: { body: { first_name: "Ada", order_id: "1234" }, buttons: [{ index: 0, value: "1234" }] } },
      clientMessageId: "c-1",
      regarding: record,
    });
  });

  it("gives a POSITIONAL template's values in order, the header's apart from the body's", () => {
    const values = { "body:3": "10:00", "body:1": "Ada", "header:1": "A-17", "body:2": "Monday" };
    expect(templateCommand(APPOINTMENT, values, "c-2").template).toEqual({
      name: "appointment_reminder",
      language: "en_GB",
      parameters: { header: ["A-17"], body: ["Ada", "Monday", "10:00"] },
    });
  });

  it("gives a media header as one of our uploads, and nothing for a template without parameters", () => {
    const values = { "header:media": "https://blob.example/media/outbound/sale.png?sig=1", "body:name": "Ada", "body:end_date": "31 May" };
    expect(templateCommand(SPRING_SALE, values, "c-3").template?.parameters).toEqual({
      header: [{ mediaUrl: "https://blob.example/media/outbound/sale.png?sig=1" }],
      body: { name: "Ada", end_date: "31 May" },
    });
    expect(templateCommand(WELCOME_BACK, {}, "c-4").template).toEqual({ name: "welcome_back", language: "en_US", parameters: {} });
  });
});

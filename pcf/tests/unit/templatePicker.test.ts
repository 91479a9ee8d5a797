import { describe, expect, it } from "vitest";
import { ApiError } from "../../WhatsAppChat/api/apiError";
import type { UploadResult } from "../../WhatsAppChat/api/contract";
import { templateLabel } from "../../WhatsAppChat/model/content";
import { templateKey } from "../../WhatsAppChat/model/templates";
import { ids, message } from "./fixtures";
import { NEVER_WROTE, ScriptedApi, panel } from "./scriptedApi";
import { APPOINTMENT, ORDER_UPDATE, SPRING_SALE, TEMPLATES } from "./templateFixtures";

const CONTACT = { entity: "contact", id: "3f2504e0-4f89-11d3-9a0c-0305e82c3301" } as const;

/** A panel on a customer who never wrote (the window is closed), with the business number's templates. */
async function closedWindow(recordFacts = { firstName: "Ada" }) {
  const api = new ScriptedApi();
  api.session_ = NEVER_WROTE;
  api.templatesAnswer = TEMPLATES;
  const chat = panel(api, CONTACT, { recordFacts });
  await chat.controller.load();
  return { api, ...chat };
}

const upload = (kind: UploadResult["kind"], filename: string): UploadResult => ({
  mediaUrl: `https://blob.example/media/outbound/${filename}?sig=1`,
  blobName: `outbound/${filename}`,
  mimeType: kind === "image" ? "image/png" : "application/pdf",
  kind,
  size: 100,
  sha256: "x",
  filename,
});

describe("opening the template picker", () => {
  it("loads the business number's templates once, naming the record", async () => {
    const { api, controller, state } = await closedWindow();
    await controller.openTemplates();
    expect(state().picker.open).toBe(true);
    expect(state().picker.templates).toHaveLength(TEMPLATES.length);
    controller.closeTemplates();
    await controller.openTemplates();
    expect(api.asked.filter((call) => call === "templates")).toHaveLength(1);
    expect(api.records).toContain("templates contact:3f2504e0-4f89-11d3-9a0c-0305e82c3301");
  });

  it("says why the templates could not load, and loads them again on the next opening", async () => {
    const { api, controller, state } = await closedWindow();
    api.templatesAnswer = new ApiError(502, "meta_unavailable", "Meta did not answer and nothing is cached");
    await controller.openTemplates();
    expect(state().picker.loadProblem).toMatchObject({ code: "meta_unavailable", title: "The templates can't be loaded from WhatsApp right now." });
    api.templatesAnswer = TEMPLATES;
    controller.closeTemplates();
    await controller.openTemplates();
    expect(state().picker.loadProblem).toBeUndefined();
    expect(state().picker.templates).toHaveLength(TEMPLATES.length);
  });

  it("words a number without a WhatsApp Business Account for the agent", async () => {
    const { api, controller, state } = await closedWindow();
    api.templatesAnswer = new ApiError(503, "not_configured", "no WABA id for 106540352242922");
    await controller.openTemplates();
    expect(state().picker.loadProblem).toMatchObject({ title: "Templates aren't set up for this business number." });
  });
});

describe("filling in a template", () => {
  it("prefills the record's first name, and the agent can change it", async () => {
    const { controller, state, dispatch } = await closedWindow({ firstName: "Ada" });
    await controller.openTemplates();
    controller.chooseTemplate(templateKey(ORDER_UPDATE));
    expect(state().picker.values).toEqual({ "body:first_name": "Ada" });
    expect(state().picker.prefilled).toEqual(["body:first_name"]);
    dispatch({ type: "templateValueChanged", key: "body:first_name", value: "Ada Lovelace" });
    expect(state().picker.values["body:first_name"]).toBe("Ada Lovelace");
  });

  it("does not send until every field is filled in", async () => {
    const { api, controller, dispatch } = await closedWindow();
    await controller.openTemplates();
    controller.chooseTemplate(templateKey(ORDER_UPDATE));
    await controller.sendTemplate();
    dispatch({ type: "templateValueChanged", key: "body:order_id", value: "1234" });
    await controller.sendTemplate();
    expect(api.sent).toEqual([]);
  });

  it("Back goes to the list and forgets what was filled in; choosing again prefills again", async () => {
    const { controller, state, dispatch } = await closedWindow();
    await controller.openTemplates();
    controller.chooseTemplate(templateKey(ORDER_UPDATE));
    dispatch({ type: "templateValueChanged", key: "body:order_id", value: "1234" });
    dispatch({ type: "templateUnchosen" });
    expect(state().picker.chosen).toBeUndefined();
    controller.chooseTemplate(templateKey(ORDER_UPDATE));
    expect(state().picker.values).toEqual({ "body:first_name": "Ada" });
  });

  it("takes a media header's file through the chat's upload, and only a file of the header's kind", async () => {
    const { api, controller, state, dispatch } = await closedWindow();
    await controller.openTemplates();
    controller.chooseTemplate(templateKey(SPRING_SALE));
    api.uploadAnswer = upload("document", "terms.pdf");
    await controller.uploadTemplateMedia("header:media", new File(["%PDF"], "terms.pdf"));
    expect(state().picker.notice).toMatchObject({ code: "wrong_header_file", title: "The header needs an image; terms.pdf is a document." });
    expect(state().picker.values["header:media"]).toBeUndefined();

    api.uploadAnswer = upload("image", "sale.png");
    await controller.uploadTemplateMedia("header:media", new File(["png"], "sale.png"));
    expect(state().picker.values["header:media"]).toBe("https://blob.example/media/outbound/sale.png?sig=1");
    expect(state().picker.mediaFile).toEqual({ key: "header:media", filename: "sale.png", kind: "image" });
    expect(api.records.filter((call) => call.startsWith("upload"))).toEqual([
      "upload contact:3f2504e0-4f89-11d3-9a0c-0305e82c3301",
      "upload contact:3f2504e0-4f89-11d3-9a0c-0305e82c3301",
    ]);
    dispatch({ type: "templateValueChanged", key: "body:end_date", value: "31 May" });
    await controller.sendTemplate();
    expect(api.sent[0]?.template?.parameters.header).toEqual([{ mediaUrl: "https://blob.example/media/outbound/sale.png?sig=1" }]);
  });
});

describe("sending a template", () => {
  async function filledOrderUpdate() {
    const chat = await closedWindow();
    await chat.controller.openTemplates();
    chat.controller.chooseTemplate(templateKey(ORDER_UPDATE));
    chat.dispatch({ type: "templateValueChanged", key: "body:order_id", value: "1234" });
    chat.dispatch({ type: "templateValueChanged", key: "button:0:1", value: "1234" });
    return chat;
  }

  it("sends it while the window is closed; it shows in the chat with its rendered text and name, and the picker closes", async () => {
    const { api, controller, state } = await filledOrderUpdate();
    api.sendAnswers = [
      message({
        id: "tpl-1",
        kind: "template",
        status: "accepted",
        text: "Hi Ada, your order 1234 ships today.\n\nParcel & Co.",
        template: { name: "order_update", language: "en_US", category: "UTILITY" },
      }),
    ];
    await controller.sendTemplate();
    expect(api.sent).toEqual([
      {
        type: "template",
        template: { name: "order_update", language: "en_US", parameters: { body: { first_name: "Ada", order_id: "1234" }, buttons: [{ index: 0, value: "1234" }] } },
        clientMessageId: "pcf-1",
        regarding: CONTACT,
      },
    ]);
    expect(ids(state().timeline)).toEqual(["tpl-1"]);
    const sent = state().timeline[0];
    expect(sent?.text).toBe("Hi Ada, your order 1234 ships today.\n\nParcel & Co.");
    expect(sent && templateLabel(sent)).toBe("Template: order_update");
    expect(state().picker.open).toBe(false);
    expect(state().picker.chosen).toBeUndefined();
    expect(state().picker.templates).toHaveLength(TEMPLATES.length); // no second load next time
  });

  it("explains a customer who opted out of marketing, keeps what was filled in, and the header learns it", async () => {
    const { api, controller, state, dispatch } = await closedWindow();
    await controller.openTemplates();
    controller.chooseTemplate(templateKey(SPRING_SALE));
    dispatch({ type: "templateMediaUploaded", key: "header:media", upload: upload("image", "sale.png") });
    dispatch({ type: "templateValueChanged", key: "body:end_date", value: "31 May" });
    api.sendAnswers = [new ApiError(409, "marketing_opt_out", "The customer opted out of marketing messages.")];
    await controller.sendTemplate();
    expect(state().picker.notice).toMatchObject({ code: "marketing_opt_out", intent: "warning", title: "This customer opted out of marketing messages." });
    expect(state().picker.notice?.detail).toContain("Send a utility template instead");
    expect(state().picker.open).toBe(true);
    expect(state().picker.values["body:end_date"]).toBe("31 May");
    expect(state().session?.marketingOptOut).toBe(true);
    expect(state().timeline).toEqual([]);
  });

  it("words a template that is no longer approved, and a parameter the API refuses", async () => {
    const { api, controller, state } = await filledOrderUpdate();
    api.sendAnswers = [
      new ApiError(400, "template_not_found", "no APPROVED template order_update (en_US)"),
      new ApiError(400, "invalid_request", "template order_update (en_US): body parameter order_id is missing"),
    ];
    await controller.sendTemplate();
    expect(state().picker.notice).toMatchObject({ title: "This template can't be used any more." });
    await controller.sendTemplate();
    expect(state().picker.notice).toMatchObject({
      title: "Something in this template isn't filled in right.",
      detail: "template order_update (en_US): body parameter order_id is missing. Nothing was sent; what you filled in is kept.",
    });
  });

  it("after an unclear failure, sends the very same template again with the same clientMessageId, a changed one with a new id", async () => {
    const { api, controller, dispatch } = await filledOrderUpdate();
    api.sendAnswers = [new ApiError(504, "whatsapp_no_answer", "no answer"), new ApiError(504, "whatsapp_no_answer", "no answer")];
    await controller.sendTemplate();
    await controller.sendTemplate();
    dispatch({ type: "templateValueChanged", key: "body:order_id", value: "1235" });
    await controller.sendTemplate();
    expect(api.sent.map((command) => command.clientMessageId)).toEqual(["pcf-1", "pcf-1", "pcf-2"]);
  });

  it("sends once when Send is pressed twice", async () => {
    const { api, controller } = await filledOrderUpdate();
    await Promise.all([controller.sendTemplate(), controller.sendTemplate()]);
    expect(api.sent).toHaveLength(1);
  });

  it("stops at a refused record: nothing of the chat or the picker stays", async () => {
    const { api, controller, state } = await filledOrderUpdate();
    api.sendAnswers = [new ApiError(403, "not_allowed", "You can't read this contact.")];
    await controller.sendTemplate();
    expect(state().refused?.code).toBe("not_allowed");
    expect(state().picker.open).toBe(false);
  });

  it("positional values go in order", async () => {
    const { api, controller, dispatch } = await closedWindow();
    await controller.openTemplates();
    controller.chooseTemplate(templateKey(APPOINTMENT));
    for (const [key, value] of [["header:1", "A-17"], ["body:2", "Monday"], ["body:3", "10:00"]] as const) dispatch({ type: "templateValueChanged", key, value });
    await controller.sendTemplate();
    expect(api.sent[0]?.template?.parameters).toEqual({ header: ["A-17"], body: ["Ada", "Monday", "10:00"] });
  });
});

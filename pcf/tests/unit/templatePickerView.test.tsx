import * as React from "react";
import { describe, expect, it } from "vitest";
import { CLOSED_PICKER, type TemplatePicker as PickerState } from "../../WhatsAppChat/chat/templatePicker";
import { Composer } from "../../WhatsAppChat/components/Composer";
import { MessageBubble } from "../../WhatsAppChat/components/MessageBubble";
import { ReactionChoices } from "../../WhatsAppChat/components/ReactionPicker";
import { TemplatePicker, type TemplatePickerProps } from "../../WhatsAppChat/components/TemplatePicker";
import { WindowClosed } from "../../WhatsAppChat/components/WindowClosed";
import { EMPTY_DRAFT } from "../../WhatsAppChat/model/draft";
import { templateKey } from "../../WhatsAppChat/model/templates";
import { type Element, byAttr, findAll, one, render, textOf } from "./markup";
import { NOW, inbound, message } from "./fixtures";
import { ORDER_UPDATE, SPRING_SALE, TEMPLATES } from "./templateFixtures";

const nothing = (): void => undefined;

function picker(state: Partial<PickerState>, props: Partial<TemplatePickerProps> = {}): Element {
  return render(
    <TemplatePicker
      picker={{ ...CLOSED_PICKER, open: true, templates: TEMPLATES, ...state }}
      marketingOptOut={false}
      onClose={nothing}
      onReload={nothing}
      onSearch={nothing}
      onLanguage={nothing}
      onChoose={nothing}
      onBack={nothing}
      onChange={nothing}
      onUpload={nothing}
      onSend={nothing}
      onDismissNotice={nothing}
      {...props}
    />,
  );
}

const rows = (view: Element): Element[] => byAttr(view, "data-template");
const button = (view: Element, text: string): Element => one(findAll(view, (e) => e.tag === "button" && textOf(e).trim() === text), `button ${text}`);

describe("the template picker's list", () => {
  it("shows every approved template with its language and category, and a search box", () => {
    const view = picker({});
    expect(rows(view).map((row) => `${row.attrs["data-template"]} ${row.attrs["data-language"]}`)).toEqual(TEMPLATES.map((t) => `${t.name} ${t.language}`));
    const order = one(byAttr(view, "data-template", "order_update"));
    expect(order.attrs["aria-label"]).toBe("order_update, English (United States), Utility");
    expect(textOf(one(byAttr(order, "data-category")))).toBe("Utility");
    expect(textOf(order)).toContain("Hi {{first_name}}, your order {{order_id}} ships today.");
    expect(one(byAttr(view, "data-category", "MARKETING")).attrs["data-category"]).toBe("MARKETING");
    expect(one(byAttr(view, "aria-label", "Search templates by name")).tag).toBe("input");
    expect(textOf(one(byAttr(view, "data-template-count")))).toBe("6 of 6 templates");
    expect(one(findAll(view, (e) => e.tag === "h2")).children).toEqual(["Send a template"]);
  });

  it("shows only what the search finds, and says when nothing does", () => {
    const found = picker({ search: "appoint", language: "es_ES" });
    expect(rows(found).map((row) => row.attrs["data-language"])).toEqual(["es_ES"]);
    expect(textOf(one(byAttr(found, "data-template-count")))).toBe("1 of 6 templates");
    expect(textOf(picker({ search: "refund" }))).toContain("No template matches “refund”.");
  });

  it("says when the number has no templates, while they load, and why they did not", () => {
    expect(textOf(picker({ templates: [] }))).toContain("This business number has no approved templates yet.");
    expect(textOf(picker({ templates: undefined, loading: true }))).toContain("Loading the approved templates…");
    const failed = picker({ templates: undefined, loadProblem: { intent: "error", title: "The templates can't be loaded from WhatsApp right now.", code: "meta_unavailable" } });
    expect(textOf(failed)).toContain("The templates can't be loaded from WhatsApp right now.");
    button(failed, "Try again");
  });
});

describe("the chosen template", () => {
  const chosen = (values: Record<string, string>, extra: Partial<PickerState> = {}, props: Partial<TemplatePickerProps> = {}): Element =>
    picker({ chosen: templateKey(ORDER_UPDATE), values, prefilled: values["body:first_name"] ? ["body:first_name"] : [], ...extra }, props);

  it("has a labelled field per parameter, the record's first name in its field and said so", () => {
    const view = chosen({ "body:first_name": "Ada" });
    const inputs = byAttr(view, "data-field");
    expect(inputs.map((input) => [input.attrs["data-field"], input.attrs.value ?? "", input.attrs.placeholder])).toEqual([
      ["body:first_name", "Ada", "Ada"],
      ["body:order_id", "", "1234"],
      ["button:0:1", "", "1234"],
    ]);
    const labels = findAll(view, (e) => e.tag === "label").map(textOf);
    expect(labels).toEqual(["First name*", "Order id*", "“Track order” button*"]); // * : required
    expect(textOf(view)).toContain("From this record; you can change it.");
    expect(textOf(view)).toContain("In the text: https://parcel.example/track/{{1}}");
  });

  it("previews the template with what was typed, the empty placeholders marked", () => {
    const view = chosen({ "body:first_name": "Ada" });
    const preview = one(byAttr(view, "data-testid", "template-preview"));
    expect(preview.attrs.role).toBe("group");
    expect(preview.attrs["aria-label"]).toBe("What the customer gets");
    expect(textOf(one(byAttr(preview, "data-preview-body")))).toBe("Hi Ada, your order {{order_id}} ships today.");
    expect(byAttr(preview, "data-filled").map((piece) => piece.attrs["data-preview-field"])).toEqual(["body:first_name"]);
    expect(textOf(preview)).toContain("Parcel & Co.");
    expect(textOf(preview)).toContain("Track order");
  });

  it("keeps Send disabled, and says why, until every field is filled in", () => {
    const send = (view: Element): Element => button(view, "Send template");
    const partly = chosen({ "body:first_name": "Ada" });
    expect(send(partly).attrs["aria-disabled"]).toBe("true");
    const why = one(byAttr(partly, "id", send(partly).attrs["aria-describedby"] ?? ""));
    expect(textOf(why)).toBe("2 of 3 fields to fill in.");
    const full = chosen({ "body:first_name": "Ada", "body:order_id": "1234", "button:0:1": "1234" });
    expect(send(full).attrs["aria-disabled"]).toBeUndefined();
    expect(send(full).attrs.type).toBe("submit");
    expect(textOf(button(chosen({ "body:first_name": "Ada", "body:order_id": "1", "button:0:1": "1" }, { sending: true }), "Sending…"))).toBe("Sending…");
  });

  it("warns before a marketing template goes to a customer who opted out", () => {
    const sale = picker({ chosen: templateKey(SPRING_SALE) }, { marketingOptOut: true });
    expect(textOf(one(byAttr(sale, "data-opt-out-warning")))).toContain("This customer opted out of marketing messages");
    expect(byAttr(chosen({}, {}, { marketingOptOut: true }), "data-opt-out-warning")).toEqual([]); // utility
  });

  it("takes a media header's file with an upload button, and names the file once uploaded", () => {
    const sale = picker({ chosen: templateKey(SPRING_SALE) });
    const file = one(findAll(sale, (e) => e.tag === "input" && e.attrs.type === "file"));
    expect(file.attrs.accept).toBe("image/jpeg,image/png");
    expect(file.attrs["aria-label"]).toBe("Header image");
    button(sale, "Upload a file");
    const uploaded = picker({ chosen: templateKey(SPRING_SALE), values: { "header:media": "https://blob/x.png" }, mediaFile: { key: "header:media", filename: "sale.png", kind: "image" } });
    expect(textOf(uploaded)).toContain("Uploaded: sale.png");
  });

  it("shows the API's refusal in the picker", () => {
    const view = chosen({}, { notice: { intent: "warning", title: "This customer opted out of marketing messages.", code: "marketing_opt_out" } });
    expect(one(byAttr(view, "data-problem-code")).attrs["data-problem-code"]).toBe("marketing_opt_out");
  });
});

describe("where the picker opens from", () => {
  it("beside the validation message while the window is closed", () => {
    const view = render(<WindowClosed replyWindow={{ state: "closed", lastInboundAt: undefined }} now={NOW} keptDraft="" onOpenTemplates={nothing} />);
    expect(textOf(view)).toContain("You can only reply within 24 hours of the customer's last message.");
    const open = button(view, "Send a template");
    expect(open.attrs["data-template-opener"]).toBe("");
  });

  it("the composer's menu inside the window", () => {
    const view = render(
      <Composer draft={EMPTY_DRAFT} sending={false} uploading={false} onChange={nothing} onSend={nothing} onUpload={nothing} onRemoveMedia={nothing} onOpenTemplates={nothing} />,
    );
    const menu = one(byAttr(view, "aria-label", "More ways to send"));
    expect(menu.tag).toBe("button");
    expect(menu.attrs["aria-haspopup"]).toBe("menu");
  });
});

describe("a sent template and reactions in the chat", () => {
  it("labels a template message with its name above its rendered text", () => {
    const sent = message({ kind: "template", text: "Hi Ada, your order 1234 ships today.", template: { name: "order_update", language: "en_US" } });
    const row = render(<MessageBubble message={sent} />);
    expect(textOf(one(byAttr(row, "data-template-label")))).toContain("Template: order_update");
    expect(textOf(row)).toContain("Hi Ada, your order 1234 ships today.");
  });

  it("offers the reaction picker on the customer's messages only, while the agent may react", () => {
    const question = inbound({ text: "Where is it?" });
    expect(byAttr(render(<MessageBubble message={question} onReact={nothing} />), "data-react-button")).toHaveLength(1);
    expect(byAttr(render(<MessageBubble message={question} />), "data-react-button")).toEqual([]);
    expect(byAttr(render(<MessageBubble message={message()} onReact={nothing} />), "data-react-button")).toEqual([]);
    const mine = render(<MessageBubble message={inbound({ reactions: [{ emoji: "👍", from: "business", at: "2026-03-02T10:00:00Z" }] })} onReact={nothing} />);
    expect(one(byAttr(mine, "data-react-button")).attrs["aria-label"]).toBe("React to this message. Your reaction: 👍");
    expect(one(byAttr(mine, "data-reaction")).attrs["aria-label"]).toBe("👍 from you");
  });

  it("offers six emoji, the agent's current one pressed and labelled as removing it", () => {
    const view = render(<ReactionChoices current="❤️" onChoose={nothing} />);
    expect(one(byAttr(view, "role", "toolbar")).attrs["aria-label"]).toBe("Reactions");
    const choices = byAttr(view, "data-emoji");
    expect(choices.map((choice) => [choice.attrs["data-emoji"], choice.attrs["aria-pressed"], choice.attrs["aria-label"]])).toEqual([
      ["👍", "false", "React with 👍"],
      ["❤️", "true", "Remove your reaction ❤️"],
      ["😂", "false", "React with 😂"],
      ["😮", "false", "React with 😮"],
      ["😢", "false", "React with 😢"],
      ["🙏", "false", "React with 🙏"],
    ]);
  });
});

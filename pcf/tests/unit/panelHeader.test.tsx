import * as React from "react";
import { describe, expect, it } from "vitest";
import { PanelHeader, type PanelHeaderProps } from "../../WhatsAppChat/components/PanelHeader";
import { byAttr, one, render, textOf } from "./markup";
import { NOW } from "./fixtures";

const header = (props: Partial<PanelHeaderProps>) =>
  render(
    <PanelHeader customer="15551234567" devMode={false} replyWindow={{ state: "open", closesAt: undefined }} now={NOW} refreshing={false} onRefresh={() => undefined} {...props} />,
  );

describe("the panel's header", () => {
  it("says when the customer opted out of marketing, beside their number", () => {
    const badge = one(byAttr(header({ marketingOptOut: true }), "data-marketing-opt-out"), "opt-out badge");
    expect(textOf(badge)).toBe("Opted out of marketing");
    expect(badge.attrs.title).toContain("Replies in the chat are not affected.");
  });

  it("says who the chat is with: the record's name above the number, else WhatsApp", () => {
    const named = header({ customerName: "Ada Lovelace" });
    expect(textOf(one(byAttr(named, "data-customer-name"), "name"))).toBe("Ada Lovelace");
    expect(textOf(named)).toContain("15551234567");
    expect(byAttr(header({ customerName: "  " }), "data-customer-name")).toHaveLength(0);
    expect(textOf(header({}))).toContain("WhatsApp");
  });

  it("says nothing about marketing otherwise", () => {
    expect(textOf(header({ marketingOptOut: false }))).not.toContain("marketing");
    expect(textOf(header({}))).not.toContain("marketing");
  });
});

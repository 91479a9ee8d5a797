import { describe, expect, it } from "vitest";
import { deliveryLabel, deliveryOf, failureReason } from "../../WhatsAppChat/model/delivery";
import { inbound, message } from "./fixtures";

describe("delivery ticks", () => {
  it.each([
    ["accepted", "sending", "Sending"],
    ["sent", "sent", "Sent"],
    ["delivered", "delivered", "Delivered"],
    ["read", "read", "Read"],
    ["played", "read", "Read"],
    ["failed", "failed", "Not delivered"],
  ] as const)("an outbound message %s shows %s", (status, delivery, label) => {
    const shown = deliveryOf(message({ status }));
    expect(shown).toBe(delivery);
    expect(deliveryLabel(shown)).toBe(label);
  });

  it("shows no ticks on the customer's messages", () => {
    expect(deliveryOf(inbound())).toBe("none");
  });
});

describe("why a message failed", () => {
  it("gives Meta's reason with its code", () => {
    const failed = message({
      status: "failed",
      error: { code: 131026, title: "Message undeliverable", detail: "The recipient's phone number is not a WhatsApp number." },
    });
    expect(failureReason(failed)).toBe("Message undeliverable (131026): The recipient's phone number is not a WhatsApp number.");
  });

  it("does not repeat a detail that says the same as the title", () => {
    expect(failureReason(message({ status: "failed", error: { code: 131051, title: "Unsupported message type", detail: "Unsupported message type" } }))).toBe(
      "Unsupported message type (131051)",
    );
  });

  it("says so when WhatsApp gave no reason", () => {
    expect(failureReason(message({ status: "failed" }))).toBe("WhatsApp gave no reason.");
  });

  it("has nothing to say about a message that did not fail", () => {
    expect(failureReason(message({ status: "read" }))).toBeUndefined();
  });
});

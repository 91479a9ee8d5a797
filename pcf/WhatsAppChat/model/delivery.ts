import type { ChatMessage } from "../api/contract";
import { localize } from "../strings/strings";

/** What the ticks beside an outbound message say. Inbound messages show none. */
export type Delivery = "none" | "sending" | "sent" | "delivered" | "read" | "failed";

export function deliveryOf(message: ChatMessage): Delivery {
  if (message.direction === "inbound") return "none";
  switch (message.status) {
    case "accepted":
      return "sending";
    case "sent":
      return "sent";
    case "delivered":
      return "delivered";
    case "read":
    case "played":
      return "read";
    case "failed":
      return "failed";
    default:
      return "none";
  }
}

/** The words a screen reader (and the tooltip) gives for the ticks. */
export function deliveryLabel(delivery: Delivery): string {
  return delivery === "none" ? "" : localize(`Delivery_${delivery}`);
}

/** ◷ with WhatsApp, ✓ sent, ✓✓ delivered, ✓✓ (coloured) read, as in WhatsApp itself. */
export const DELIVERY_MARK: Record<Delivery, string> = {
  none: "",
  sending: "◷",
  sent: "✓",
  delivered: "✓✓",
  read: "✓✓",
  failed: "!",
};

/** Meta's reason for a failed message, as the API stored it: "Message undeliverable (131026): ...". */
export function failureReason(message: ChatMessage): string | undefined {
  if (message.status !== "failed") return undefined;
  const error = message.error;
  if (!error) return localize("Delivery_NoReason");
  // Meta's own words (its title and detail) are shown as Meta gives them.
  const headline = error.title ?? localize("Delivery_Refused");
  const code = error.code !== null && error.code !== undefined ? ` (${error.code})` : "";
  const detail = error.detail && error.detail !== error.title ? `: ${error.detail}` : "";
  return `${headline}${code}${detail}`;
}

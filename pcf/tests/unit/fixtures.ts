import type { ChatMessage, MessagesPage } from "../../WhatsAppChat/api/contract";

let counter = 0;

/** A message as the history returns it; only what a test cares about needs saying. */
export function message(overrides: Partial<ChatMessage> = {}): ChatMessage {
  counter += 1;
  const direction = overrides.direction ?? "outbound";
  return {
    id: `m-${counter}`,
    phoneNumberId: "106540352242922",
    customerId: "15551234567",
    direction,
    kind: "text",
    text: `message ${counter}`,
    timestamp: "2026-03-02T10:00:00Z",
    status: direction === "inbound" ? "received" : "sent",
    statusTimes: {},
    ...overrides,
  };
}

export function inbound(overrides: Partial<ChatMessage> = {}): ChatMessage {
  return message({ direction: "inbound", status: "received", ...overrides });
}

export function page(messages: ChatMessage[], next: string | null = null): MessagesPage {
  return { messages, next };
}

export const NOW = new Date("2026-03-02T12:00:00Z");

export function ids(messages: readonly ChatMessage[]): string[] {
  return messages.map((m) => m.id);
}

import type { InboxConversation } from "../../WhatsAppInbox/api/contract";

/** The inbox tests' clock: Monday 30 March 2026, 12:00 UTC. */
export const INBOX_NOW = new Date("2026-03-30T12:00:00Z");

export function conversation(overrides: Partial<InboxConversation> & { customerId: string }): InboxConversation {
  return {
    profileName: null,
    record: null,
    lastMessage: { preview: "Hello", at: "2026-03-30T11:55:00Z", direction: "inbound" },
    window: { active: true, expiresAt: "2026-03-31T11:55:00Z" },
    unreadCount: 0,
    ...overrides,
  };
}

export const ADA = conversation({
  customerId: "447700900123",
  profileName: "Ada Lovelace",
  record: { entity: "contact", id: "6a1f3c52-9d0e-4b7a-8c21-5e4d3b2a1f00" },
  lastMessage: { preview: "Can I change the address?", at: "2026-03-30T11:58:00Z", direction: "inbound" },
  unreadCount: 2,
});

export const GRACE = conversation({
  customerId: "447700900456",
  profileName: "Grace Hopper",
  record: { entity: "lead", id: "0b9e8d7c-6f5a-4e3d-9c2b-1a0f9e8d7c6b" },
  lastMessage: { preview: "Of course, the quote is on its way.", at: "2026-03-30T09:00:00Z", direction: "outbound" },
});

export const NEWCOMER = conversation({
  customerId: "15551234567",
  lastMessage: { preview: "Do you deliver to Leeds?", at: "2026-03-29T18:00:00Z", direction: "inbound" },
  unreadCount: 1,
});

export const OLD = conversation({
  customerId: "447700900789",
  profileName: "Olga Okafor",
  lastMessage: { preview: "Is the shop open on Sunday?", at: "2026-03-12T08:00:00Z", direction: "inbound" },
  window: { active: false, expiresAt: "2026-03-13T08:00:00Z" },
});

/** `GET /api/conversations` (shared/api/openapi.json: InboxAnswer). */

export type InboxState = "waiting" | "open" | "all";
export const INBOX_STATES: readonly InboxState[] = ["waiting", "open", "all"];

export interface InboxRecord {
  entity: "contact" | "lead";
  id: string;
  /** The record's full name, when Dataverse's phone lookup linked it; absent or null otherwise. */
  name?: string | null;
}

export interface InboxConversation {
  customerId: string;
  profileName: string | null;
  /** The linked contact or lead; null when none is linked yet. */
  record: InboxRecord | null;
  lastMessage: { preview: string | null; at: string; direction: "inbound" | "outbound" | null };
  window: { active: boolean; expiresAt: string | null };
  /** Customer messages since an agent's panel last read the conversation. */
  unreadCount: number;
}

export interface InboxPage {
  conversations: InboxConversation[];
  /** Pass as `next` for the following page; null: this was the last. */
  next: string | null;
}

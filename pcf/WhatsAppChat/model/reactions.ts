import type { ChatMessage, Reaction, ReactionFrom } from "../api/contract";

/** The reactions the picker offers: WhatsApp's own quick set. */
export const REACTION_EMOJI = ["👍", "❤️", "😂", "😮", "😢", "🙏"] as const;

/** Whose a reaction is; answers say `from`, or the reaction's `direction` (outbound: the business's). */
export function reactionSide(reaction: Reaction): ReactionFrom {
  if (reaction.from === "customer" || reaction.from === "business") return reaction.from;
  return reaction.direction === "outbound" ? "business" : "customer";
}

/** The business's reaction on a message (the agent's, or one from the WhatsApp Business app), if any. */
export function agentReaction(message: ChatMessage): string | undefined {
  const mine = (message.reactions ?? []).filter((reaction) => reactionSide(reaction) === "business" && reaction.emoji?.trim());
  return mine[mine.length - 1]?.emoji.trim();
}

/** What choosing `emoji` sends: that emoji, or "" (take it away) when it is already the agent's reaction. */
export function reactionToSend(message: ChatMessage, emoji: string): string {
  return agentReaction(message) === emoji ? "" : emoji;
}

/** The message with the business's reaction replaced by `emoji` ("" removes it): shown at once, before the next poll. */
export function withAgentReaction(message: ChatMessage, emoji: string, at: Date): ChatMessage {
  const others = (message.reactions ?? []).filter((reaction) => reactionSide(reaction) !== "business");
  const reactions = emoji ? [...others, { emoji, from: "business" as const, at: at.toISOString() }] : others;
  return { ...message, reactions: reactions.length > 0 ? reactions : null };
}

/** The agent reacts to the customer's messages (not to a deleted one, a system line or a reaction). */
export function canReactTo(message: ChatMessage): boolean {
  return message.direction === "inbound" && !message.deleted && message.kind !== "system" && message.kind !== "reaction";
}

import { describe, expect, it } from "vitest";
import { ApiError } from "../../WhatsAppChat/api/apiError";
import type { ChatMessage } from "../../WhatsAppChat/api/contract";
import { reactionChips } from "../../WhatsAppChat/model/content";
import { REACTION_EMOJI, agentReaction, canReactTo, reactionToSend, withAgentReaction } from "../../WhatsAppChat/model/reactions";
import { canReply, replyWindow } from "../../WhatsAppChat/model/sessionWindow";
import { NOW, inbound, message, page } from "./fixtures";
import { ScriptedApi, panel } from "./scriptedApi";

const AT = "2026-03-02T10:01:00Z";

describe("the agent's reaction", () => {
  it("offers WhatsApp's quick set", () => {
    expect(REACTION_EMOJI).toEqual(["👍", "❤️", "😂", "😮", "😢", "🙏"]);
  });

  it("is the business's reaction on the message, said as `from` or as an outbound `direction`", () => {
    expect(agentReaction(inbound({ reactions: [{ emoji: "👍", from: "customer", at: AT }] }))).toBeUndefined();
    expect(agentReaction(inbound({ reactions: [{ emoji: "❤️", from: "business", at: AT }] }))).toBe("❤️");
    expect(agentReaction(inbound({ reactions: [{ emoji: "🙏", direction: "outbound", at: AT }] }))).toBe("🙏");
    expect(reactionChips(inbound({ reactions: [{ emoji: "🙏", direction: "outbound", at: AT }] }))[0]?.label).toBe("🙏 from you");
  });

  it("choosing the current one again takes it away", () => {
    const liked = inbound({ reactions: [{ emoji: "👍", from: "business", at: AT }] });
    expect(reactionToSend(liked, "👍")).toBe("");
    expect(reactionToSend(liked, "❤️")).toBe("❤️");
    expect(reactionToSend(inbound(), "👍")).toBe("👍");
  });

  it("replaces the business's reaction and leaves the customer's", () => {
    const both = inbound({ reactions: [{ emoji: "👍", from: "customer", at: AT }, { emoji: "😂", from: "business", at: AT }] });
    expect(withAgentReaction(both, "❤️", NOW).reactions?.map((r) => [r.emoji, r.from])).toEqual([
      ["👍", "customer"],
      ["❤️", "business"],
    ]);
    expect(withAgentReaction(both, "", NOW).reactions?.map((r) => r.emoji)).toEqual(["👍"]);
    expect(withAgentReaction(inbound(), "", NOW).reactions).toBeNull();
  });

  it("goes on the customer's messages only, not on a deleted one or a system line", () => {
    expect(canReactTo(inbound())).toBe(true);
    expect(canReactTo(message())).toBe(false);
    expect(canReactTo(inbound({ deleted: true }))).toBe(false);
    expect(canReactTo(inbound({ kind: "system" }))).toBe(false);
  });
});

describe("reacting to a customer's message", () => {
  async function openChat(question: ChatMessage) {
    const api = new ScriptedApi();
    api.pages = [page([question])];
    const chat = panel(api, { entity: "contact", id: "3f2504e0-4f89-11d3-9a0c-0305e82c3301" });
    await chat.controller.load();
    return { api, ...chat };
  }

  it("sends a reaction naming the message, and shows it on the bubble at once", async () => {
    const { api, controller, state } = await openChat(inbound({ id: "q1", text: "Is it shipped?" }));
    api.sendAnswers = [message({ id: "r1", kind: "reaction", text: "👍" })];
    await controller.react("q1", "👍");
    expect(api.sent).toEqual([
      {
        type: "reaction",
        reaction: { messageId: "q1", emoji: "👍" },
        clientMessageId: "pcf-1",
        regarding: { entity: "contact", id: "3f2504e0-4f89-11d3-9a0c-0305e82c3301" },
      },
    ]);
    // The reaction is on the customer's bubble, not a bubble of its own.
    expect(state().timeline.map((m) => m.id)).toEqual(["q1"]);
    expect(agentReaction(state().timeline[0] as ChatMessage)).toBe("👍");
    expect(state().reactingTo).toBeUndefined();
  });

  it("the same emoji again removes it", async () => {
    const { api, controller, state } = await openChat(inbound({ id: "q1", reactions: [{ emoji: "❤️", from: "business", at: AT }] }));
    await controller.react("q1", "❤️");
    expect(api.sent[0]?.reaction).toEqual({ messageId: "q1", emoji: "" });
    expect(agentReaction(state().timeline[0] as ChatMessage)).toBeUndefined();
  });

  it("takes the answer when it is the message itself, as the API keeps it", async () => {
    const { api, controller, state } = await openChat(inbound({ id: "q1" }));
    api.sendAnswers = [inbound({ id: "q1", text: "Is it shipped?", reactions: [{ emoji: "👍", from: "business", at: "2026-03-02T11:59:00Z" }] })];
    await controller.react("q1", "👍");
    expect(state().timeline[0]?.reactions).toEqual([{ emoji: "👍", from: "business", at: "2026-03-02T11:59:00Z" }]);
  });

  it("puts the reactions back as they were when the API refuses, and says why; a closed window closes the composer", async () => {
    const before = [{ emoji: "👍", from: "customer" as const, at: AT }];
    const { api, controller, state } = await openChat(inbound({ id: "q1", reactions: before }));
    api.sendAnswers = [new ApiError(409, "session_inactive", "the window is closed")];
    await controller.react("q1", "😂");
    expect(state().timeline[0]?.reactions).toEqual(before);
    expect(state().notice).toMatchObject({ title: "You can only react within 24 hours of the customer's last message." });
    expect(canReply(replyWindow(state().session, NOW))).toBe(false);
  });

  it("one at a time, and never on the business's own messages", async () => {
    const { api, controller } = await openChat(inbound({ id: "q1" }));
    await Promise.all([controller.react("q1", "👍"), controller.react("q1", "❤️")]);
    expect(api.sent).toHaveLength(1);
    const { api: other, controller: mine } = await openChat(message({ id: "ours" }));
    await mine.react("ours", "👍");
    expect(other.sent).toEqual([]);
  });
});

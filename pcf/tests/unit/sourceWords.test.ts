import { describe, expect, it } from "vitest";
import { type Literal, controlSources, literalsOf } from "./sourceScan";

/**
 * Every word an agent reads comes from the strings files: no text in the controls' JSX, their
 * aria-labels, titles, placeholders or labels, and no sentence or capitalised word in their code,
 * outside `strings/`. What the scan cannot tell from a word is listed below, each with why.
 */

// Attributes whose value is read by the agent or their screen reader.
const TEXT_ATTRIBUTE = /^jsx-attribute:(aria-label|aria-description|aria-valuetext|title|placeholder|label|hint|alt)$/;
// Two words in a row: "Send as", "the customer's message" (not "1px solid", "image/png", "flex-start").
const WORDS = /(^|[^\p{L}\p{N}_\-./#])\p{L}[\p{L}']+[ ,]+\p{L}{2,}/u;
// A capitalised word on its own: "Photo", "Sent", "Retry".
const CAPITALISED = /^\p{Lu}\p{Ll}+[.!?…]?$/u;

/** Not words for agents, though they look like them. */
const NOT_FOR_AGENTS: { file: string; text: string; why: string }[] = [
  { file: "WhatsAppChat/components/Composer.tsx", text: "Files", why: "the DataTransfer type of a drag that carries files" },
  { file: "WhatsAppChat/components/Composer.tsx", text: "Enter", why: "a KeyboardEvent key name" },
  { file: "WhatsAppChat/components/TemplatePicker.tsx", text: "Escape", why: "a KeyboardEvent key name" },
  { file: "WhatsAppChat/components/MessageBubble.tsx", text: "noopener noreferrer", why: "a link's rel tokens" },
  { file: "WhatsAppChat/api/chatApi.ts", text: "HTTP ${…} without a JSON body", why: "a diagnostic in the error; the panel words an unreadable answer itself" },
  { file: "WhatsAppChat/api/chatApi.ts", text: "no answer within ${…} s", why: "a diagnostic in the error; the panel words a timeout itself" },
  { file: "WhatsAppInbox/api/inboxApi.ts", text: "no answer within ${…} s", why: "a diagnostic in the error; the inbox words a timeout itself" },
];

function forAgents(literal: Literal): boolean {
  const hasLetter = /\p{L}/u.test(literal.text);
  if (literal.where === "jsx-text" || TEXT_ATTRIBUTE.test(literal.where)) return hasLetter;
  return WORDS.test(literal.text) || CAPITALISED.test(literal.text);
}

const allowed = (literal: Literal): boolean => NOT_FOR_AGENTS.some((entry) => entry.file === literal.file && entry.text === literal.text);

describe("the controls' words", () => {
  const literals = controlSources().flatMap(literalsOf);

  it("all come from the strings files: none is written in the code", () => {
    const written = literals.filter((literal) => forAgents(literal) && !allowed(literal)).map((literal) => `${literal.file}:${literal.line} ${literal.text}`);
    expect(written).toEqual([]);
  });

  it("the list of look-alikes stays true: each is still in its file", () => {
    const gone = NOT_FOR_AGENTS.filter((entry) => !literals.some((literal) => literal.file === entry.file && literal.text === entry.text));
    expect(gone).toEqual([]);
  });

  it("the scan finds words where they hide: JSX text, a title, a notice's title, a sentence", () => {
    const probe = (text: string, where: string): boolean => forAgents({ file: "probe.tsx", line: 1, text, where });
    expect(probe("Retry", "jsx-text")).toBe(true);
    expect(probe("Dismiss", "jsx-attribute:aria-label")).toBe(true);
    expect(probe("Photo", "property:image")).toBe(true);
    expect(probe("Session open · ${…} left", "property:text")).toBe(true);
    expect(probe("1px solid ${…}", "string")).toBe(false);
    expect(probe("image/jpeg,image/png", "string")).toBe(false);
    expect(probe("Template_Open", "string")).toBe(false);
  });
});

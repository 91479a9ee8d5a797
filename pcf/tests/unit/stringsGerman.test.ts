import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_STRINGS } from "../../WhatsAppChat/strings/strings";

const STRINGS = path.resolve(__dirname, "../../WhatsAppChat/strings");

/** A .resx file's entries, name to text, as the platform reads them. */
function resx(file: string): Map<string, string> {
  const xml = readFileSync(path.join(STRINGS, file), "utf8");
  const entries = new Map<string, string>();
  for (const match of xml.matchAll(/<data name="([^"]+)"[^>]*>\s*<value>([\s\S]*?)<\/value>/g)) {
    entries.set(match[1] ?? "", (match[2] ?? "").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&"));
  }
  return entries;
}

const placeholders = (text: string): string[] => (text.match(/\{\d+\}/g) ?? []).sort();

describe("the German strings file (WhatsAppChat.1031.resx)", () => {
  const english = resx("WhatsAppChat.1033.resx");
  const german = resx("WhatsAppChat.1031.resx");

  it("has every key of the English one, and no other", () => {
    expect([...english.keys()].filter((key) => !german.has(key))).toEqual([]);
    expect([...german.keys()].filter((key) => !english.has(key))).toEqual([]);
    expect(Object.keys(DEFAULT_STRINGS).filter((key) => !german.has(key))).toEqual([]);
  });

  it("has a text for each, with the same {0}, {1} placeholders as the English", () => {
    const empty = [...german].filter(([, text]) => text.trim() === "").map(([key]) => key);
    expect(empty).toEqual([]);
    const different = [...english].filter(([key, text]) => placeholders(text).join() !== placeholders(german.get(key) ?? "").join()).map(([key]) => key);
    expect(different).toEqual([]);
  });

  it("is translated: the words an agent reads are not the English ones", () => {
    // Names, numbers and the like may stay as they are ("{0}, {1}, {2}", "Marketing", "Video").
    const same = [...english].filter(([key, text]) => german.get(key) === text && /[a-z]{3,}\s+[a-z]{3,}/i.test(text)).map(([key]) => key);
    expect(same).toEqual([]);
  });

  it("is named in the manifest beside the English one", () => {
    const manifest = readFileSync(path.join(STRINGS, "../ControlManifest.Input.xml"), "utf8");
    expect(manifest).toContain('<resx path="strings/WhatsAppChat.1033.resx"');
    expect(manifest).toContain('<resx path="strings/WhatsAppChat.1031.resx"');
  });
});

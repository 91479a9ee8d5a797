import { readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_STRINGS as CHAT, type StringKey, loadStrings, localize } from "../../WhatsAppChat/strings/strings";
import { DEFAULT_STRINGS as INBOX } from "../../WhatsAppInbox/strings/strings";
import { fillPlaceholders } from "../../WhatsAppChat/strings/catalog";
import { readResx } from "./resx";

/**
 * Each control's words: its English table (the code's only keys) and its two strings files, English
 * (1033) and German (1031), which D365 reads by the user's language.
 */
const CONTROLS = [
  {
    control: "WhatsAppChat",
    english: CHAT as Record<string, string>,
    // The same in German on purpose: the brand, a sample address, numbers only, and words German
    // takes from English as they are (Video, Audio, Sticker, Marketing).
    sameInGerman: [
      "Header_DefaultName",
      "Composer_MediaUrlPlaceholder",
      "Composer_Length",
      "Template_Choose",
      "Composer_MediaType_video",
      "Composer_MediaType_audio",
      "Kind_video",
      "Kind_audio",
      "Kind_sticker",
      "Template_HeaderMedia_video",
      "Category_MARKETING",
    ],
  },
  {
    control: "WhatsAppInbox",
    english: INBOX as Record<string, string>,
    // "Lead" is D365's own German name of the table.
    sameInGerman: ["Inbox_Lead", "Inbox_LeadNamed"],
  },
];

const placeholders = (text: string): string => (text.match(/\{\d+\}/g) ?? []).sort().join();

for (const { control, english, sameInGerman } of CONTROLS) describe(`${control}'s strings files`, () => {
  const folder = path.resolve(__dirname, `../../${control}`);
  const en = readResx(path.join(folder, `strings/${control}.1033.resx`));
  const de = readResx(path.join(folder, `strings/${control}.1031.resx`));
  const manifest = readFileSync(path.join(folder, "ControlManifest.Input.xml"), "utf8");
  const manifestKeys = [...manifest.matchAll(/(?:display-name-key|description-key)="([^"]+)"/g)].map((match) => match[1] ?? "");

  it("have every key the code uses, with the English word for word", () => {
    expect(Object.keys(english).filter((key) => !en.has(key))).toEqual([]);
    expect(Object.keys(english).filter((key) => !de.has(key))).toEqual([]);
    expect(Object.entries(english).filter(([key, text]) => en.get(key) !== text).map(([key]) => key)).toEqual([]);
  });

  it("have the manifest's names and descriptions, and no key that nothing uses", () => {
    expect(manifestKeys.filter((key) => !en.has(key) || !de.has(key))).toEqual([]);
    const used = new Set([...Object.keys(english), ...manifestKeys]);
    expect([...en.keys()].filter((key) => !used.has(key))).toEqual([]);
  });

  it("have the same keys in English and German", () => {
    expect([...en.keys()].filter((key) => !de.has(key))).toEqual([]);
    expect([...de.keys()].filter((key) => !en.has(key))).toEqual([]);
  });

  it("have a German text for each, with the English one's {0}, {1} placeholders", () => {
    expect([...de].filter(([, text]) => text.trim() === "").map(([key]) => key)).toEqual([]);
    expect([...en].filter(([key, text]) => placeholders(text) !== placeholders(de.get(key) ?? "")).map(([key]) => key)).toEqual([]);
  });

  it("are translated: a German text is the English one only where the list says so", () => {
    const same = [...en].filter(([key, text]) => de.get(key) === text && !sameInGerman.includes(key)).map(([key]) => key);
    expect(same).toEqual([]);
    // The list stays true: each key on it really is the same.
    expect(sameInGerman.filter((key) => en.get(key) !== de.get(key))).toEqual([]);
  });

  it("are both named in the manifest", () => {
    expect(manifest).toContain(`<resx path="strings/${control}.1033.resx"`);
    expect(manifest).toContain(`<resx path="strings/${control}.1031.resx"`);
  });
});

describe("the panel's words at run time", () => {
  afterEach(() => loadStrings(undefined));

  it("come from the platform's strings file when it has them, else the English ones", () => {
    const german: Partial<Record<StringKey, string>> = { Template_Open: "Vorlage senden", Template_Count: "{0} von {1} Vorlagen" };
    // The platform answers the key itself (or nothing) for a name it does not know.
    loadStrings((key) => german[key as StringKey] ?? key);
    expect(localize("Template_Open")).toBe("Vorlage senden");
    expect(localize("Template_Count", 3, 40)).toBe("3 von 40 Vorlagen");
    expect(localize("Template_Close")).toBe("Close the templates");
    loadStrings(undefined);
    expect(localize("Template_Open")).toBe("Send a template");
  });

  it("fill in their {0}, {1}, and leave a {{1}} in a value alone", () => {
    expect(localize("Template_Field_BodyPosition", "{{1}}")).toBe("Body {{1}}");
    expect(localize("Template_SentLabel", "order_update")).toBe("Template: order_update");
    expect(fillPlaceholders("{1} before {0}, {2} stays", ["a", "b"])).toBe("b before a, {2} stays");
  });
});

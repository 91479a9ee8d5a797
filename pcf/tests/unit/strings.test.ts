import { readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_STRINGS, type StringKey, loadStrings, localize } from "../../WhatsAppChat/strings/strings";

const RESX = path.resolve(__dirname, "../../WhatsAppChat/strings/WhatsAppChat.1033.resx");

/** The .resx's entries, name to text, as the platform reads them. */
function resx(): Map<string, string> {
  const xml = readFileSync(RESX, "utf8");
  const entries = new Map<string, string>();
  for (const match of xml.matchAll(/<data name="([^"]+)"[^>]*>\s*<value>([\s\S]*?)<\/value>/g)) {
    const text = (match[2] ?? "").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, "&");
    entries.set(match[1] ?? "", text);
  }
  return entries;
}

describe("the panel's words", () => {
  afterEach(() => loadStrings(undefined));

  it("are all in the strings file, word for word, so a translation covers every one", () => {
    const file = resx();
    const missing = Object.keys(DEFAULT_STRINGS).filter((key) => !file.has(key));
    expect(missing).toEqual([]);
    const different = (Object.entries(DEFAULT_STRINGS) as [string, string][]).filter(([key, text]) => file.get(key) !== text).map(([key]) => key);
    expect(different).toEqual([]);
  });

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
  });
});

/** A .resx strings file's entries, name to text, as the platform reads them. */
import { readFileSync } from "node:fs";

export function resxEntries(xml: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const match of xml.matchAll(/<data name="([^"]+)"[^>]*>\s*<value>([\s\S]*?)<\/value>/g)) {
    const text = (match[2] ?? "").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, "&");
    entries.set(match[1] ?? "", text);
  }
  return entries;
}

export function readResx(file: string): Map<string, string> {
  return resxEntries(readFileSync(file, "utf8"));
}

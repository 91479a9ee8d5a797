/**
 * Whether a German page still shows English: every text an agent or their screen reader gets (what
 * shows, and aria-labels, titles, placeholders, alt texts), searched for the English words of the
 * control's strings file wherever its German differs.
 */
import path from "node:path";
import type { Locator } from "playwright-core";
import { readResx } from "../unit/resx";

/** What the element and everything in it shows and says. */
export function uiTexts(root: Locator): Promise<string[]> {
  return root.evaluate((element: HTMLElement) => {
    const texts = [element.innerText];
    for (const node of [element, ...Array.from(element.querySelectorAll("*"))]) {
      for (const name of ["aria-label", "title", "placeholder", "alt"]) {
        const value = node.getAttribute(name);
        if (value) texts.push(value);
      }
    }
    return texts;
  });
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * The English strings (key: words) found in the texts: the parts of each between its {0}, {1}, as whole
 * words. `fromApi`: texts the API (or Meta) gave, which show as they came and are left out.
 */
export function englishIn(texts: readonly string[], control: "WhatsAppChat" | "WhatsAppInbox", fromApi: readonly string[] = []): string[] {
  const folder = path.resolve(__dirname, `../../${control}/strings`);
  const english = readResx(path.join(folder, `${control}.1033.resx`));
  const german = readResx(path.join(folder, `${control}.1031.resx`));
  const all = fromApi.filter(Boolean).reduce((text, given) => text.split(given).join(" "), texts.join("\n"));
  const found: string[] = [];
  for (const [key, text] of english) {
    if (german.get(key) === text) continue;
    for (const fragment of text.split(/\{\d+\}/).map((part) => part.trim())) {
      // Four letters at least: shorter fragments ("h", "min") are not telling.
      if ((fragment.match(/\p{L}/gu) ?? []).length < 4) continue;
      if (new RegExp(`(^|[^\\p{L}])${escape(fragment)}($|[^\\p{L}])`, "u").test(all)) found.push(`${key}: ${fragment}`);
    }
  }
  return found;
}

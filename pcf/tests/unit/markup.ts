/**
 * Renders a component to HTML (react-dom/server, no browser) and reads it back as a small tree, so a
 * test can ask what shows: which elements, their attributes and their text, in order.
 */
import type * as React from "react";
import { renderToStaticMarkup } from "react-dom/server";

export interface Element {
  tag: string;
  attrs: Record<string, string>;
  children: Node[];
}
export type Node = Element | string;

const VOID = new Set(["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"]);

function decode(text: string): string {
  return text
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#x27;/g, "'")
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&");
}

function attributes(source: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  for (const match of source.matchAll(/([^\s=/]+)(?:="([^"]*)")?/g)) {
    if (match[1]) attrs[match[1]] = decode(match[2] ?? "");
  }
  return attrs;
}

/** React's markup is well formed and escapes `<`, `>` and `"` inside attributes, so tags split cleanly. */
export function parse(html: string): Element {
  const root: Element = { tag: "#root", attrs: {}, children: [] };
  const stack: Element[] = [root];
  let last = 0;
  for (const match of html.matchAll(/<(\/?)([a-zA-Z][\w-]*)([^>]*?)(\/?)>/g)) {
    const top = stack[stack.length - 1] ?? root;
    const index = match.index ?? 0;
    if (index > last) top.children.push(decode(html.slice(last, index)));
    last = index + match[0].length;
    const [, closing, tag = "", rest = "", selfClosing] = match;
    if (closing) {
      if (stack.length > 1 && top.tag === tag.toLowerCase()) stack.pop();
      else throw new Error(`unbalanced </${tag}> in ${html}`);
      continue;
    }
    const element: Element = { tag: tag.toLowerCase(), attrs: attributes(rest), children: [] };
    top.children.push(element);
    if (!selfClosing && !VOID.has(element.tag)) stack.push(element);
  }
  if (last < html.length) (stack[stack.length - 1] ?? root).children.push(decode(html.slice(last)));
  return root;
}

export function render(element: React.ReactElement): Element {
  return parse(renderToStaticMarkup(element));
}

/** Every element under `node` (depth first, in document order) that `match` accepts. */
export function findAll(node: Element, match: (element: Element) => boolean): Element[] {
  const found: Element[] = [];
  const visit = (current: Element): void => {
    for (const child of current.children) {
      if (typeof child === "string") continue;
      if (match(child)) found.push(child);
      visit(child);
    }
  };
  visit(node);
  return found;
}

/** Elements that carry an attribute (with this value, when given). */
export function byAttr(node: Element, name: string, value?: string): Element[] {
  return findAll(node, (element) => name in element.attrs && (value === undefined || element.attrs[name] === value));
}

export function one(found: Element[], what = "element"): Element {
  if (found.length !== 1) throw new Error(`expected one ${what}, found ${found.length}`);
  return found[0] as Element;
}

/** The text a reader sees: every text node under `node`, joined. */
export function textOf(node: Node): string {
  return typeof node === "string" ? node : node.children.map(textOf).join("");
}

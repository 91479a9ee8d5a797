/**
 * Reads the controls' own source (not the strings tables, not generated code) as TypeScript syntax, so
 * tests can ask what literal text and colours it holds: words an agent would read that bypass the
 * strings files, and colours that bypass the theme.
 */
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

export const PCF_ROOT = path.resolve(__dirname, "../..");
const CONTROLS = ["WhatsAppChat", "WhatsAppInbox"];
const SKIPPED = new Set(["generated", "strings"]);

/** Every .ts and .tsx file of both controls, relative to pcf/ ("WhatsAppChat/components/Composer.tsx"). */
export function controlSources(): string[] {
  const found: string[] = [];
  const walk = (folder: string): void => {
    for (const entry of readdirSync(path.join(PCF_ROOT, folder), { withFileTypes: true })) {
      const relative = path.posix.join(folder, entry.name);
      if (entry.isDirectory()) {
        if (!SKIPPED.has(entry.name)) walk(relative);
      } else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith(".d.ts")) {
        found.push(relative);
      }
    }
  };
  CONTROLS.forEach(walk);
  return found.sort();
}

export interface Literal {
  file: string;
  line: number;
  /** The text as written (a template literal's fixed parts, `${…}` between them). */
  text: string;
  /** "jsx-text", "jsx-attribute:<name>", "property:<name>" or "string". */
  where: string;
}

function parse(file: string): ts.SourceFile {
  const text = readFileSync(path.join(PCF_ROOT, file), "utf8");
  return ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith(".tsx") ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
}

function templateText(node: ts.TemplateExpression): string {
  return node.head.text + node.templateSpans.map((span) => `\${…}${span.literal.text}`).join("");
}

/** Where a literal sits: inside a JSX attribute, an object property, or elsewhere. */
function placeOf(node: ts.Node): string {
  let current: ts.Node = node.parent;
  // Through `a ? "x" : "y"`, `(…)`, `{…}` and `a ?? "x"` to what takes the value.
  while (ts.isConditionalExpression(current) || ts.isParenthesizedExpression(current) || ts.isJsxExpression(current) || ts.isBinaryExpression(current)) {
    current = current.parent;
  }
  if (ts.isJsxAttribute(current)) return `jsx-attribute:${current.name.getText()}`;
  if (ts.isPropertyAssignment(current)) return `property:${current.name.getText()}`;
  return "string";
}

/** Whether the literal is a module name or an argument the scan has no business with (a type, an import). */
function isCode(node: ts.Node): boolean {
  const parent = node.parent;
  return ts.isImportDeclaration(parent) || ts.isExportDeclaration(parent) || ts.isLiteralTypeNode(parent) || ts.isExternalModuleReference(parent);
}

/** Every JSX text and string or template literal in the file. */
export function literalsOf(file: string): Literal[] {
  const source = parse(file);
  const found: Literal[] = [];
  const add = (node: ts.Node, text: string, where: string): void => {
    found.push({ file, line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1, text, where });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isJsxText(node)) {
      if (node.text.trim()) add(node, node.text.trim(), "jsx-text");
    } else if ((ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) && !isCode(node)) {
      add(node, node.text, placeOf(node));
    } else if (ts.isTemplateExpression(node)) {
      add(node, templateText(node), placeOf(node));
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

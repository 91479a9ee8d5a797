// Parses and semantically checks KQL queries with Microsoft's Kusto parser (npm @kusto/language-service-next,
// the Bridge.NET build of the C# Kusto.Language), against the tables declared in schemas.json.
//
//   node tests/kql/check.mjs [--schemas FILE] < queries.json
//
// stdin:  {"queries": [{"id": "...", "target": "appinsights" | "workspace", "text": "..."}]}
// stdout: {"results": [{"id": "...", "errors": [{"code", "message", "start", "length", "line", "column"}]}]}
// Only diagnostics of severity Error are reported (the parser's warnings and suggestions are style advice).
// Exit status: 0 when every query was checked (whatever it found), 2 when the input or the schemas are wrong.
// tests/test_kql.py runs it once for every query in infra/ and docs/monitoring.md.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
// bridge.js defines the global `Bridge` runtime, then the library registers the global `Kusto` namespace.
require("@kusto/language-service-next/bridge.min.js");
require("@kusto/language-service-next/Kusto.Language.Bridge.min.js");
const { KustoCode, GlobalState } = globalThis.Kusto.Language;
const { ColumnSymbol, DatabaseSymbol, ScalarTypes, TableSymbol } = globalThis.Kusto.Language.Symbols;

function fail(message) {
  process.stderr.write(`check.mjs: ${message}\n`);
  process.exit(2);
}

function argument(name, fallback) {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : fallback;
}

// One GlobalState per target: a default database holding that target's tables. The built-in functions and
// operators (union, bin, row_cumsum, parse_url, ...) come with GlobalState.Default.
function globalsFor(schemas) {
  const globals = {};
  for (const [target, spec] of Object.entries(schemas.targets ?? {})) {
    const tables = Object.entries(spec.tables ?? {}).map(([table, { columns }]) => {
      const symbols = Object.entries(columns ?? {}).map(([column, type]) => {
        const scalar = ScalarTypes.GetSymbol(type);
        if (!scalar) fail(`${target}.${table}.${column}: unknown Kusto type ${JSON.stringify(type)}`);
        return new ColumnSymbol(column, scalar, null, null, null, null);
      });
      if (symbols.length === 0) fail(`${target}.${table}: no columns`);
      return new TableSymbol.$ctor4(table, symbols);
    });
    if (tables.length === 0) fail(`${target}: no tables`);
    globals[target] = GlobalState.Default.WithDatabase(new DatabaseSymbol.ctor(target, tables));
  }
  return globals;
}

function lineAndColumn(text, offset) {
  const before = text.slice(0, offset).split("\n");
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

function errorsIn(text, globals) {
  const diagnostics = KustoCode.ParseAndAnalyze(text, globals).GetDiagnostics();
  const errors = [];
  for (let i = 0; i < diagnostics.Count; i++) {
    const d = diagnostics.getItem(i);
    if (d.Severity !== "Error") continue;
    errors.push({ code: d.Code, message: d.Message, start: d.Start, length: d.Length, ...lineAndColumn(text, d.Start) });
  }
  return errors;
}

const schemasPath = argument("--schemas", join(dirname(fileURLToPath(import.meta.url)), "schemas.json"));
let schemas;
let input;
try {
  schemas = JSON.parse(readFileSync(schemasPath, "utf8"));
} catch (error) {
  fail(`cannot read the schemas ${schemasPath}: ${error.message}`);
}
try {
  input = JSON.parse(readFileSync(0, "utf8"));
} catch (error) {
  fail(`stdin is not JSON: ${error.message}`);
}
const globals = globalsFor(schemas);
const results = (input.queries ?? []).map(({ id, target, text }) => {
  if (typeof text !== "string") fail(`${id}: no text`);
  if (!globals[target]) fail(`${id}: unknown target ${JSON.stringify(target)} (schemas: ${Object.keys(globals)})`);
  return { id, errors: errorsIn(text, globals[target]) };
});
process.stdout.write(JSON.stringify({ results }) + "\n");

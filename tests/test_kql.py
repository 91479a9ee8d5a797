"""Every KQL query in infra/ (alert rules) and docs/monitoring.md (```kusto blocks) parses and type-checks.

Azure validates a log alert rule's query when the rule is created, so a query it rejects stops `azd up`;
a query in the docs that does not run wastes an operator's time during an incident. Each query is checked
with Microsoft's own Kusto parser (npm @kusto/language-service-next, run by tests/kql/check.mjs) against the
tables of the place it runs in: the Application Insights resource (classic names: requests, traces, ...) or
the Log Analytics workspace (StorageQueueLogs, ...), declared once in tests/kql/schemas.json.

Where a query runs: an alert rule's `scopes`; in the docs, Application Insights unless the block is preceded
by `<!-- kql: workspace -->`. All queries go to one Node process.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
from pycep import BicepParser

ROOT = Path(__file__).resolve().parents[1]
INFRA = ROOT / "infra"
DOCS = [ROOT / "docs/monitoring.md"]
CHECKER = ROOT / "tests/kql/check.mjs"
SCHEMAS = json.loads((ROOT / "tests/kql/schemas.json").read_text())["targets"]

# What an alert rule's scope points at -> the tables its query sees.
SCOPE_TARGETS = {
    "microsoft.insights/components": "appinsights",
    "microsoft.operationalinsights/workspaces": "workspace",
}
# A sample value for a Bicep interpolation `${...}` in a query that is not a string variable of the file
# (a parameter, a function call): the expression as written -> the text to check in its place.
PLACEHOLDERS: dict[str, str] = {}

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n]*)$")
KQL_LANGUAGES = {"kusto", "kql"}
TARGET_MARKER = re.compile(r"^\s*<!--\s*kql:\s*(?P<target>\w+)\s*-->\s*$")


@dataclass(frozen=True)
class Query:
    id: str  # where it is: file, and the rule or the line and heading
    target: str  # a key of schemas.json's targets
    text: str


# ---- infra/: the `query` of every resource, resolved like Bicep would ------------------------------
def bicep_string(source: str, raw: str, variables: dict[str, Any], where: str) -> str:
    """The value of a Bicep string as pycep returns it: ''' strings verbatim, others unescaped and
    interpolated (string variables of the file, else PLACEHOLDERS)."""
    if any(f"'''{newline}{raw}'''" in source for newline in ("", "\n", "\r\n")):
        return raw  # a multi-line string: no escapes, no interpolation

    def interpolate(match: re.Match[str]) -> str:
        expression = match.group(1).strip()
        if expression in variables and isinstance(variables[expression]["value"], str):
            return bicep_string(source, variables[expression]["value"], variables, where)
        if expression in PLACEHOLDERS:
            return PLACEHOLDERS[expression]
        pytest.fail(f"{where}: the query interpolates ${{{expression}}}: add a sample value to PLACEHOLDERS")

    escapes = {"\\": "\\", "'": "'", "n": "\n", "r": "\r", "t": "\t", "$": "$"}
    parts = re.split(r"(\\u\{[0-9A-Fa-f]+\}|\\.|\$\{[^{}]*\})", raw)
    text = []
    for part in parts:
        if part.startswith("\\u{"):
            text.append(chr(int(part[3:-1], 16)))
        elif len(part) == 2 and part[0] == "\\" and part[1] in escapes:
            text.append(escapes[part[1]])
        elif part.startswith("${"):
            text.append(interpolate(cast(re.Match[str], re.fullmatch(r"\$\{([^{}]*)\}", part))))
        else:
            text.append(part)
    return "".join(text)


def find_queries(node: Any) -> list[Any]:
    if isinstance(node, dict):
        found = [value for key, value in node.items() if key.lower() == "query"]
        return found + [
            q for key, value in node.items() if key.lower() != "query" for q in find_queries(value)
        ]
    if isinstance(node, list):
        return [q for item in node for q in find_queries(item)]
    return []


def scope_target(scope: Any, doc: dict[str, Any], where: str) -> str:
    """What a scope expression points at: a resource of the file (its type), or a parameter (its name)."""
    text = json.dumps(scope)
    while isinstance(scope, dict) and "operator" in scope:  # `x.id`, `x.outputs.y`: the symbol is x
        scope = scope["operator"]["operands"]["operand_1"]
    symbol = re.search(r"[A-Za-z_]\w*", scope) if isinstance(scope, str) else None
    name = symbol.group(0) if symbol else ""
    resource = doc.get("resources", {}).get(name)
    if resource is not None:
        target = SCOPE_TARGETS.get(resource["type"].lower())
    elif "workspace" in name.lower() or "loganalytics" in name.lower():
        target = "workspace"
    elif "insights" in name.lower():
        target = "appinsights"
    else:
        target = None
    if target is None:
        pytest.fail(
            f"{where}: cannot tell which tables scope {text} sees: teach tests/test_kql.py (scope_target)"
        )
    return target


def bicep_queries(root: Path) -> list[Query]:
    queries = []
    parser = BicepParser()
    for path in sorted(root.rglob("*.bicep")):
        source = path.read_text()
        doc = cast(dict[str, Any], parser.parse(file_path=path))
        variables = doc.get("variables", {})
        name = f"{root.name}/{path.relative_to(root).as_posix()}"
        for symbol, resource in doc.get("resources", {}).items():
            body = resource["config"]
            while isinstance(body.get("config"), dict) and ("condition" in body or "loop_type" in body):
                body = body["config"]  # an `if` or `for` resource wraps its body once more
            found = find_queries(body)
            for index, value in enumerate(found):
                where = f"{name}: {symbol}" + (f" (query {index + 1})" if len(found) > 1 else "")
                if value in variables:
                    where += f" = {value}"
                    value = variables[value]["value"]
                if not isinstance(value, str):
                    pytest.fail(f"{where}: the query is not a string or a string variable: teach test_kql.py")
                scopes = dig(body, "properties.scopes") or []
                targets = {scope_target(scope, doc, where) for scope in scopes}
                if len(targets) != 1:
                    pytest.fail(f"{where}: a query needs exactly one kind of scope, not {sorted(targets)}")
                queries.append(Query(where, targets.pop(), bicep_string(source, value, variables, where)))
    return queries


def dig(body: dict[str, Any], path: str) -> Any:
    value: Any = body
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value


# ---- docs: ```kusto and ```kql blocks ------------------------------------------------------------------
def markdown_queries(path: Path, root: Path = ROOT) -> list[Query]:
    queries = []
    lines = path.read_text().splitlines()
    name = path.relative_to(root).as_posix()
    heading = ""
    number = 0
    while number < len(lines):
        line = lines[number]
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        opening = FENCE.match(line)
        if not opening:
            number += 1
            continue
        closing = re.compile(rf"^[ \t]*{re.escape(opening['fence'][0])}{{{len(opening['fence'])},}}[ \t]*$")
        end = next((n for n in range(number + 1, len(lines)) if closing.match(lines[n])), len(lines))
        language = opening["info"].split()[0].lower() if opening["info"].strip() else ""
        if language in KQL_LANGUAGES:
            before = next((lines[n] for n in range(number - 1, -1, -1) if lines[n].strip()), "")
            marker = TARGET_MARKER.match(before)
            target = marker["target"] if marker else "appinsights"
            where = f"{name}:{number + 1} ({heading})"
            if target not in SCHEMAS:
                pytest.fail(f"{where}: unknown target {target!r}; schemas.json has {sorted(SCHEMAS)}")
            text = "\n".join(dedent(lines[n], opening["indent"]) for n in range(number + 1, end))
            queries.append(Query(where, target, text))
        number = end + 1
    return queries


def dedent(line: str, indent: str) -> str:
    return line[len(indent) :] if line.startswith(indent) else line.lstrip()


def all_queries() -> list[Query]:
    return bicep_queries(INFRA) + [q for path in DOCS for q in markdown_queries(path)]


QUERIES = all_queries()

# ---- what the checker must report (run in the same Node process) --------------------------------------
# The Meta-token alert as it was: `Errors = 1` is a long and `toint(valueSum)` an int, so the union keeps
# Errors_long and Errors_int, `sum(Errors)` names neither, and Azure refused to create the rule.
BROKEN_META_TOKEN_QUERY = """let authCodes = dynamic([0, 3, 10, 190, 131005]);
union
    (traces
    | where isnotempty(customDimensions.metaErrorCode)
    | extend Code = toint(customDimensions.metaErrorCode), Errors = 1),
    (customMetrics
    | where name == "whatsapp.meta_errors"
    | extend Code = toint(customDimensions.code), Errors = toint(valueSum))
| where Code in (authCodes) or Code between (200 .. 299)
| summarize Errors = sum(Errors) by Code = tostring(Code)
"""
META_TOKEN_RULE = "infra/app/alerts.bicep: metaTokenAlert = metaTokenErrorQuery"
POISON_RULE = "infra/app/alerts.bicep: poisonQueueAlert = poisonQueueQuery"


def mutated(rule: str, text: str, mistake: str) -> str:
    (query,) = [q.text for q in QUERIES if q.id == rule]
    assert text in query, f"{rule} no longer contains {text!r}: update this test"
    return query.replace(text, mistake, 1)


# (name, target, query, the error code the checker must report, a word of its message)
BITES = [
    ("union of long and int Errors", "appinsights", BROKEN_META_TOKEN_QUERY, "KS142", "'Errors'"),
    (
        "column names are case-sensitive",
        "appinsights",
        "requests | where resultcode == '500'",
        "KS142",
        "resultcode",
    ),
    ("a workspace table from Application Insights", "appinsights", "StorageQueueLogs | take 1", "KS204", ""),
    ("an Application Insights table from the workspace", "workspace", "traces | take 1", "KS204", "traces"),
    ("a syntax error", "appinsights", "requests | where timestamp > ago(1d", "KS005", ""),
    (
        "the poison query's empty table must match StorageQueueLogs",
        "workspace",
        mutated(POISON_RULE, "Uri: string", "Uri: dynamic"),
        "KS142",
        "'Uri'",
    ),
]


def run_checker(queries: list[Query]) -> dict[str, list[dict[str, Any]]]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: the KQL checker needs Node 20 (see the Makefile)")
    payload = {"queries": [{"id": q.id, "target": q.target, "text": q.text} for q in queries]}
    result = subprocess.run(  # noqa: S603
        [node, str(CHECKER)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(
            f"tests/kql/check.mjs failed ({result.returncode}; `make install` runs npm ci): {result.stderr}"
        )
    return {r["id"]: r["errors"] for r in json.loads(result.stdout)["results"]}


@pytest.fixture(scope="module")
def checked() -> dict[str, list[dict[str, Any]]]:
    bites = [Query(f"bite: {name}", target, text) for name, target, text, _, _ in BITES]
    return run_checker(QUERIES + bites)


def describe(query: Query, errors: list[dict[str, Any]]) -> str:
    lines = query.text.splitlines()
    report = [f"{query.id} [{query.target}]:"]
    for error in errors:
        report.append(f"  line {error['line']} col {error['column']}: {error['code']} {error['message']}")
        if 0 < error["line"] <= len(lines):
            report.append(f"    {lines[error['line'] - 1]}")
            report.append("    " + " " * (error["column"] - 1) + "^" * max(1, min(error["length"], 60)))
        elsewhere = [
            t for t in SCHEMAS if t != query.target and any(n in error["message"] for n in tables(t))
        ]
        if error["code"] == "KS204" and elsewhere:
            report.append(
                f"    that table is in {elsewhere[0]!r}: precede the block with <!-- kql: {elsewhere[0]} -->"
            )
    return "\n".join(report)


def tables(target: str) -> list[str]:
    return [f"'{name}'" for name in SCHEMAS[target]["tables"]]


# ---- the tests ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("query", QUERIES, ids=[q.id for q in QUERIES])
def test_every_query_parses_and_names_known_tables_and_columns(
    checked: dict[str, list[dict[str, Any]]], query: Query
) -> None:
    errors = checked[query.id]
    assert not errors, describe(query, errors)


@pytest.mark.parametrize(
    ("name", "code", "word"), [(b[0], b[3], b[4]) for b in BITES], ids=[b[0] for b in BITES]
)
def test_the_checker_bites(checked: dict[str, list[dict[str, Any]]], name: str, code: str, word: str) -> None:
    errors = checked[f"bite: {name}"]
    assert any(e["code"] == code and word in e["message"] for e in errors), errors


def test_the_meta_token_alert_is_the_union_with_one_type(checked: dict[str, list[dict[str, Any]]]) -> None:
    (query,) = [q for q in QUERIES if q.id == META_TOKEN_RULE]
    assert query.text != BROKEN_META_TOKEN_QUERY
    assert "Errors = tolong(valueSum)" in query.text
    assert checked[META_TOKEN_RULE] == []


def test_every_query_in_the_files_is_collected() -> None:
    """Nothing is skipped silently: as many `query:` properties and ```kusto/```kql fences as queries."""
    in_bicep = sum(
        len(re.findall(r"^\s*query\s*:", path.read_text(), re.MULTILINE)) for path in INFRA.rglob("*.bicep")
    )
    fences = sum(
        1
        for path in DOCS
        for line in path.read_text().splitlines()
        if re.match(r"^\s*(```|~~~)\s*(kusto|kql)", line, re.IGNORECASE)
    )
    assert in_bicep >= 3
    assert fences >= 15
    assert len(QUERIES) == in_bicep + fences
    targets = {q.target for q in QUERIES}
    assert targets == set(SCHEMAS)  # each declared schema is used, and both kinds of scope are checked


def test_every_table_cites_its_reference() -> None:
    for target, spec in SCHEMAS.items():
        for table, declared in spec["tables"].items():
            assert declared["source"].startswith("https://learn.microsoft.com/"), f"{target}.{table}"
            assert declared["columns"], f"{target}.{table}"


def test_bicep_strings_are_read_like_bicep(tmp_path: Path) -> None:
    infra = tmp_path / "infra"
    (infra / "app").mkdir(parents=True)
    bicep = infra / "app/rules.bicep"
    bicep.write_text(
        "param workspaceId string\n"
        "param appInsightsId string\n"
        "var queue = 'media-inbound-poison'\n"
        "var verbatim = '''\nStorageQueueLogs\n| where Uri has \"\\\\${queue}\"\n'''\n"
        "var built = 'StorageQueueLogs | where Uri endswith \\'/${queue}\\' | take ${limit}'\n"
        "resource a 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {\n"
        "  name: 'a'\n  location: 'x'\n"
        "  properties: {\n    scopes: [workspaceId]\n"
        "    criteria: { allOf: [ { query: verbatim }, { query: built } ] }\n  }\n}\n"
        "resource b 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {\n"
        "  name: 'b'\n  location: 'x'\n"
        "  properties: {\n    scopes: [appInsightsId]\n"
        "    criteria: { allOf: [ { query: 'requests | where name == \\'${queue}\\'' } ] }\n  }\n}\n"
    )
    PLACEHOLDERS["limit"] = "10"
    try:
        found = {q.id: (q.target, q.text) for q in bicep_queries(infra)}
    finally:
        del PLACEHOLDERS["limit"]
    assert found == {
        "infra/app/rules.bicep: a (query 1) = verbatim": (
            "workspace",
            'StorageQueueLogs\n| where Uri has "\\\\${queue}"\n',
        ),
        "infra/app/rules.bicep: a (query 2) = built": (
            "workspace",
            "StorageQueueLogs | where Uri endswith '/media-inbound-poison' | take 10",
        ),
        "infra/app/rules.bicep: b": ("appinsights", "requests | where name == 'media-inbound-poison'"),
    }


def test_markdown_blocks_are_read_with_their_target(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text(
        "# Queries\n\n```kusto\nrequests\n| take 1\n```\n\n## Workspace\n\n<!-- kql: workspace -->\n\n"
        "  ```KQL title\n  StorageQueueLogs\n  | take 1\n  ```\n\n```sql\nSELECT 1\n```\n"
    )
    assert markdown_queries(doc, tmp_path) == [
        Query("doc.md:3 (Queries)", "appinsights", "requests\n| take 1"),
        Query("doc.md:12 (Workspace)", "workspace", "StorageQueueLogs\n| take 1"),
    ]

"""Rewrites the tables that quote benchmarks/results.json: README.md's (figure, goal, measured), and
docs/cost.md's and docs/capacity.md's, each between its `<!-- <name>:start -->` and `<!-- <name>:end -->`
markers. A test compares them with what this would write, so a table left stale fails.

    .venv/bin/python -m benchmarks.readme_table

Run it after `make bench` (after benchmarks.cost_model). A figure results.json does not hold yet
shows as "not measured yet".
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from benchmarks.cost_model import PROFILES, Profile
from benchmarks.results import RESULTS

ROOT: Final = Path(__file__).resolve().parents[1]
NOT_MEASURED: Final = "not measured yet"


@dataclass(frozen=True)
class Row:
    key: str  # dotted, in results.json
    label: str
    goal: str
    unit: str = ""  # "$" before the number, or a word after it


README_ROWS: Final = (
    Row("cosmos_requests.inbound_text", "Cosmos DB requests: customer's text", "≤ 2"),
    Row("cosmos_requests.status", "Cosmos DB requests: status", "≤ 2"),
    Row("cosmos_requests.send", "Cosmos DB requests: agent's send", "≤ 4"),
    Row("cosmos_requests.empty_poll", "Cosmos DB requests: chat panel poll, nothing new", "1"),
    Row("cosmos_requests.history_page", "Cosmos DB requests: history page", "—"),
    Row("executions_per_exchange", "Function executions per exchange", "≤ 5"),
    Row("dataverse_requests_per_stored_message", "Dataverse requests per stored message", "≤ 1.2"),
    Row("ru_per_exchange_estimate", "Estimated RU per exchange", "≤ 50"),
    Row("cost_per_million_usd.typical", "Estimated USD per million messages, typical", "≤ $25", "$"),
    Row("cost_per_million_usd.sparse", "Estimated USD per million messages, sparse", "—", "$"),
    Row("cost_per_million_usd.busy", "Estimated USD per million messages, busy", "—", "$"),
    Row("peak_rss_mb", "Peak memory of an instance (media benchmark)", "—", "MB"),
    Row("webhook_cpu_us", "App CPU per one-message webhook, in memory", "≤ 2 × the floor", "µs"),
    Row("webhook_floor_us", "… the floor: HMAC, JSON and models of the body", "—", "µs"),
    Row("first_request_ms", "First request after a cold start", "≤ 80 ms", "ms"),
)

PARTS: Final = (
    ("functions_gb_seconds", "Functions GB-seconds"),
    ("executions", "Functions executions"),
    ("cosmos", "Cosmos DB RU and storage"),
    ("queues", "Queue operations"),
    ("blob", "Blob Storage (media)"),
    ("app_insights", "Application Insights ingestion"),
)

LEVERS: Final = (
    ("no_panel_polls", "the chat panel told of changes instead of polling"),
    ("smallest_instance", "the smallest instance the measured peak memory fits (below)"),
    ("telemetry_sampled_10_percent", "Application Insights keeping one item in ten"),
    ("all_three", "all three"),
)

RU_ROWS: Final = (
    Row("ru_per_exchange_estimate", "per exchange (goal ≤ 50)", ""),
    Row("ru_per_exchange_all_paths_indexed", "per exchange, had every path stayed indexed", ""),
    Row("index_saving_ru_per_exchange", "saved by indexing only the queried paths", ""),
    Row("ru_per_operation.inbound_text", "a customer's text", ""),
    Row("ru_per_operation.send", "an agent's send", ""),
    Row("ru_per_operation.status", "a status", ""),
    Row("ru_per_operation.empty_poll", "a poll with nothing new", ""),
    Row("ru_per_operation.history_page", "a history page of 30", ""),
)

CAPACITY_ROWS: Final = (
    Row("capacity.cosmos_ru_per_s", "Cosmos DB RU/s needed", "serverless: 5,000 RU/s per container"),
    Row("capacity.cosmos_gb_per_day", "Messages stored per day", "serverless: 1 TB per container", "GB"),
    Row("capacity.serverless_days_to_full", "Days until a serverless container is full", "—", "days"),
    Row("capacity.autoscale_max_ru_per_s", "Autoscale maximum with 20% headroom", "—", "RU/s"),
    Row("capacity.autoscale_usd_per_hour_at_max", "Autoscale price per hour at that maximum", "—", "$"),
    Row("capacity.http_instances", "HTTP instances busy (webhooks and sends)", "at most 1,000"),
    Row("capacity.mirror_instances", "Mirror instances busy", "—"),
    Row("capacity.maximum_instances", "Today's maximum instance count", "—"),
    Row("capacity.mirror_queue_messages_per_s", "Mirror queue messages per second", "2,000 per queue"),
    Row("capacity.storage_requests_per_s", "Queue requests per second", "20,000 per account"),
    Row("capacity.dataverse_requests_per_s", "Dataverse requests per second", "—"),
    Row("capacity.dataverse_requests_per_s_per_user_server", "… allowed per user and web server", "—"),
    Row("capacity.dataverse_user_servers", "Users × web servers needed", "—"),
    Row("capacity.dataverse_backlog_messages_per_hour", "Mirror backlog per hour with one of each", "—"),
)


def value(results: Mapping[str, Any], key: str) -> float | None:
    node: Any = results
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return float(node) if isinstance(node, int | float) and not isinstance(node, bool) else None


def number(amount: float) -> str:
    """Whole numbers with thousands separators, else two decimals (one if 100 or more)."""
    if amount == round(amount) and abs(amount) >= 1:
        return f"{round(amount):,}"
    return f"{amount:,.1f}" if abs(amount) >= 100 else f"{amount:,.2f}"


def shown(results: Mapping[str, Any], row: Row) -> str:
    found = value(results, row.key)
    if found is None:
        return NOT_MEASURED
    if row.unit == "$":
        return f"${number(found)}"
    return f"{number(found)} {row.unit}".rstrip()


def table(header: Sequence[str], lines: Sequence[Sequence[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join([*out, *("| " + " | ".join(line) + " |" for line in lines)])


def readme(results: Mapping[str, Any]) -> str:
    lines = [(row.label, row.goal, shown(results, row)) for row in README_ROWS]
    intro = (
        "From `benchmarks/results.json`, which `make bench` writes against the local emulators (request"
        "\ncounts are what Azure would see; RU and USD are estimates: [docs/cost.md](docs/cost.md)). An"
        "\nexchange is a customer message, an agent reply, its three statuses and their Dataverse rows."
    )
    return intro + "\n\n" + table(("figure", "goal (issue 16)", "measured"), lines)


def cost(results: Mapping[str, Any]) -> str:
    names = [p.name for p in PROFILES]
    lines = [
        (label, *(shown(results, Row(f"cost_per_million_usd_parts.{n}.{part}", "", "", "$")) for n in names))
        for part, label in PARTS
    ]
    lines.append(
        ("**total**", *(shown(results, Row(f"cost_per_million_usd.{n}", "", "", "$")) for n in names))
    )
    lines.append(
        (
            "total if every execution paid 1 s",
            *(shown(results, Row(f"cost_per_million_usd_worst_case.{n}", "", "", "$")) for n in names),
        )
    )
    for key, label in (
        ("executions_per_exchange_with_panel", "executions per exchange, chat panel included"),
        ("panel_polls_per_exchange", "of which chat panel polls"),
        ("ru_per_exchange_with_panel", "RU per exchange, chat panel included"),
        ("app_insights_kb_per_exchange", "Application Insights KB per exchange"),
    ):
        lines.append((label, *(shown(results, Row(f"{key}.{n}", "", "")) for n in names)))
    per_profile = table(("USD per million messages", *names), lines)
    levers = [
        (label, shown(results, Row(f"cost_per_million_usd_levers.typical.{key}", "", "", "$")))
        for key, label in LEVERS
    ]
    levers.append(("that instance size", shown(results, Row("smallest_fitting_instance_mb", "", "", "MB"))))
    ru = [(row.label, shown(results, row)) for row in RU_ROWS]
    return "\n\n".join(
        (
            per_profile,
            table(("typical, with one lever", "USD per million"), levers),
            table(("RU", "estimate"), ru),
        )
    )


def capacity(results: Mapping[str, Any]) -> str:
    lines = [(row.label, shown(results, row), row.goal) for row in CAPACITY_ROWS]
    return table(("at 1,000 messages/s, 3 statuses each", "needs", "limit"), lines)


def profiles(_: Mapping[str, Any]) -> str:
    """The traffic profiles, as benchmarks/cost_model.py has them (no results.json figure)."""
    fields: tuple[tuple[str, Callable[[Profile], str]], ...] = (
        ("messages a day", lambda p: f"{p.messages_per_day:,.0f}"),
        ("arriving within (hours)", lambda p: f"{p.busy_hours:g}"),
        ("messages per conversation", lambda p: f"{p.messages_per_conversation:g}"),
        ("chat panel polling every 5 s (minutes per conversation)", lambda p: f"{p.panel_active_minutes:g}"),
        ("chat panel open, idle, every 30 s (minutes)", lambda p: f"{p.panel_idle_minutes:g}"),
        ("customer messages with a file", lambda p: f"{p.media_share:.0%}"),
        ("average file (KB)", lambda p: f"{p.media_kb:g}"),
    )
    lines = [(label, *(show(p) for p in PROFILES)) for label, show in fields]
    return table(("profile", *(p.name for p in PROFILES)), lines)


# file -> (marker name, what goes between the markers)
BLOCKS: Final[dict[str, tuple[tuple[str, Callable[[Mapping[str, Any]], str]], ...]]] = {
    "README.md": (("bench", readme),),
    "docs/cost.md": (("profiles", profiles), ("cost", cost)),
    "docs/capacity.md": (("capacity", capacity),),
}


def marked(name: str) -> re.Pattern[str]:
    """A file's `<!-- name:start -->` line, what follows it, and the `<!-- name:end -->` line."""
    return re.compile(rf"^(<!-- {name}:start -->\n)(.*?)(^<!-- {name}:end -->$)", re.DOTALL | re.MULTILINE)


def block(text: str, name: str) -> str:
    """What is between a file's markers now (without the newline before the end marker)."""
    found = marked(name).search(text)
    if found is None:
        raise ValueError(f"no <!-- {name}:start --> ... <!-- {name}:end --> markers")
    return found.group(2).removesuffix("\n")


def rewrite(text: str, name: str, content: str) -> str:
    """`text` with `content` between the markers, everything else as it was."""
    block(text, name)  # the markers must be there
    return marked(name).sub(lambda found: found.group(1) + content + "\n" + found.group(3), text, count=1)


def main() -> None:
    results = json.loads(RESULTS.read_text())
    for relative, blocks in BLOCKS.items():
        path = ROOT / relative
        text = path.read_text()
        for name, render in blocks:
            text = rewrite(text, name, render(results))
        path.write_text(text)
        print(f"rewrote the tables of {relative}")


if __name__ == "__main__":
    main()

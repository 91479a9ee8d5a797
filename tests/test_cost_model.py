"""The cost model (benchmarks/cost_model.py) on a fixture of results.json's figures, so it is checked
before every figure it needs is measured; and the README's and docs' tables against what
benchmarks/readme_table.py writes from the checked-in results.json."""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import pytest

from benchmarks import cost_model as cm
from benchmarks import readme_table as rt
from benchmarks.results import RESULTS
from shared.conversations.documents import ConversationDocument, MessageDocument, SessionDocument
from shared.storage.indexing import INDEXING_POLICY

# Request counts as measured on 2026-11-30; their kinds and the document sizes as those requests
# describe them (docs/benchmarks.md), until benchmarks.operations measures them too.
FIXTURE: dict[str, Any] = {
    "cosmos_requests": {"inbound_text": 7, "status": 6, "send": 9, "empty_poll": 2, "history_page": 2},
    "cosmos_ops": {
        "inbound_text": {"point_reads": 4, "queries": 0, "writes": 3, "written_kb": 2.4, "batches": 0},
        "status": {"point_reads": 3, "queries": 1, "writes": 2, "written_kb": 1.4, "batches": 0},
        "send": {"point_reads": 5, "queries": 0, "writes": 4, "written_kb": 4.2, "batches": 0},
        "empty_poll": {"point_reads": 1, "queries": 1, "writes": 0, "written_kb": 0, "batches": 0},
        "history_page": {"point_reads": 1, "queries": 1, "writes": 0, "written_kb": 0, "batches": 0},
    },
    "document_kb": {"message": 1.08, "conversation": 0.97, "session": 0.36},
    "executions_per_exchange": 7.0,
    "dataverse_requests_per_stored_message": 1.2,
    "peak_rss_mb": 180.0,
    "webhook_sdk_cpu_us": 15725.0,
}
HOST = json.loads(cm.HOST_JSON.read_text())
BICEP = cm.FUNCTION_APP_BICEP.read_text()


def measured(fixture: dict[str, Any] | None = None) -> cm.Measured:
    return cm.Measured.read(fixture or FIXTURE)


def infra(memory_mb: int = 2048) -> cm.Infra:
    return cm.Infra(
        instance_memory_mb=memory_mb, http_concurrency=1, queue_concurrency=12, maximum_instances=40
    )


# ---- Microsoft's RU rules -----------------------------------------------------------------------------
def test_reads_and_writes_cost_what_microsoft_tabulates() -> None:
    assert cm.read_ru(1.0) == 1.0
    assert cm.read_ru(0.3) == 1.0  # a small document costs a 1-KB read
    assert cm.read_ru(2.0) == pytest.approx(1.04)
    # "a 1-KB document with 10 indexed terms": the size's 4.95 RU and 0.2 RU a term
    assert cm.create_ru(1.0, 10) == pytest.approx(6.95)
    # a replace deletes and inserts the document and its changed terms: 2 x 4.95 + 0.4 x 2
    assert cm.replace_ru(1.0, 2) == pytest.approx(10.7)
    assert cm.create_ru(1.5, 0) == pytest.approx((4.95 + 6.29) / 2)  # between two rows of the table
    assert cm.query_ru(1.0) == pytest.approx(3.0)  # one 1-KB document from an index-served query


def test_an_exchange_is_its_operations_summed() -> None:
    simple: dict[str, Any] = copy.deepcopy(FIXTURE)
    simple["document_kb"] = {"message": 1.0, "conversation": 1.0, "session": 1.0}
    one_create = {"point_reads": 1, "queries": 0, "writes": 1, "written_kb": 1.0, "batches": 0}
    one_replace = {"point_reads": 0, "queries": 1, "writes": 1, "written_kb": 1.0, "batches": 1}
    simple["cosmos_ops"] |= {"inbound_text": one_create, "send": one_create, "status": one_replace}
    terms = cm.Terms(create=10, replace=2, signal=1)
    # inbound and send: 1 + 6.95 each; a status: a query returning the 1-KB message (3) and a replace
    # (10.7), three times; the mirror: 3 point reads for each of the two messages.
    assert cm.exchange_ru(measured(simple), terms) == pytest.approx(2 * 7.95 + 3 * 13.7 + 6.0)


# ---- the indexing policy ------------------------------------------------------------------------------
def test_the_policy_indexes_only_its_paths_and_that_saves_write_ru() -> None:
    narrow, everything = cm.Terms.under(INDEXING_POLICY), cm.Terms.under(cm.ALL_PATHS_POLICY)
    # every included path (defined or not), id and _ts, one per composite index
    expected = len(INDEXING_POLICY["includedPaths"]) + 2 + len(INDEXING_POLICY["compositeIndexes"])
    assert narrow.create == expected
    assert everything.create > narrow.create
    assert everything.replace > narrow.replace
    assert cm.is_indexed("/lastInbound/at/?", INDEXING_POLICY)
    assert not cm.is_indexed("/lastInbound/wamid/?", INDEXING_POLICY)
    assert not cm.is_indexed("/text/?", INDEXING_POLICY)
    assert cm.is_indexed("/text/?", cm.ALL_PATHS_POLICY)
    assert not cm.is_indexed("/_etag/?", cm.ALL_PATHS_POLICY)
    found = cm.figures(FIXTURE, BICEP, HOST)
    assert found["index_saving_ru_per_exchange"] > 0
    assert found["ru_per_exchange_all_paths_indexed"] == pytest.approx(
        found["ru_per_exchange_estimate"] + found["index_saving_ru_per_exchange"]
    )


@pytest.mark.parametrize(
    ("sample", "model"),
    [
        (cm.SAMPLE_MESSAGE, MessageDocument),
        (cm.SAMPLE_CONVERSATION, ConversationDocument),
        (cm.SAMPLE_SESSION, SessionDocument),
    ],
)
def test_the_sample_documents_are_documents_the_app_stores(sample: dict[str, Any], model: Any) -> None:
    known = {field.alias or name for name, field in model.model_fields.items()}
    assert set(sample) <= known
    assert model.model_validate(sample).to_document() == sample


# ---- what results.json must hold ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "script"),
    [
        (("cosmos_ops", "status", "writes"), "benchmarks.operations"),
        (("document_kb", "session"), "benchmarks.operations"),
        (("peak_rss_mb",), "benchmarks.media_upload"),
        (("executions_per_exchange",), "benchmarks.dataverse_mirror"),
    ],
)
def test_a_missing_figure_names_itself_and_the_script_that_writes_it(
    path: tuple[str, ...], script: str
) -> None:
    incomplete: dict[str, Any] = copy.deepcopy(FIXTURE)
    node = incomplete
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]
    with pytest.raises(cm.MissingFigure) as raised:
        cm.figures(incomplete, BICEP, HOST)
    assert f"`{'.'.join(path)}`" in str(raised.value)
    assert f"-m {script}" in str(raised.value)


def test_a_peak_that_does_not_fit_the_instance_is_refused() -> None:
    with pytest.raises(cm.ModelError, match="does not fit"):
        cm.figures(FIXTURE | {"peak_rss_mb": 600.0}, "param instanceMemoryMB int = 512", HOST)


# ---- the Functions bill -------------------------------------------------------------------------------
def test_the_instance_memory_and_concurrency_come_from_the_infra() -> None:
    read = cm.Infra.read(BICEP, HOST)
    assert read.instance_memory_mb in (512, 2048, 4096)
    assert (
        read.queue_concurrency
        == HOST["extensions"]["queues"]["batchSize"] + HOST["extensions"]["queues"]["newBatchThreshold"]
    )
    assert cm.Infra.read("param instanceMemoryMB int = 512", {}).instance_memory_mb == 512
    assert cm.Infra.read("param instanceMemoryMB int = 512", {}).http_concurrency == 1  # Python's default
    assert (
        cm.Infra.read(
            "x\n  perInstanceConcurrency: 16\nparam instanceMemoryMB int = 512", {}
        ).http_concurrency
        == 16
    )
    with pytest.raises(cm.ModelError):
        cm.Infra.read("param other int = 1", {})
    # The lever's instance: the smallest the measured peak fits (2,048 MB for 515 MB).
    assert [cm.smallest_instance_mb(mb) for mb in (180.0, 514.7, 5000.0)] == [512, 2048, 4096]


def test_an_execution_alone_is_billed_a_second_and_busy_ones_share_it() -> None:
    assert cm.billed_seconds(0.0001, 0.05, 1) == pytest.approx(1.0, abs=1e-4)
    assert cm.billed_seconds(5.0, 0.05, 1) < 0.5
    assert cm.billed_seconds(500.0, 0.05, 1) >= 0.05
    assert cm.billed_seconds(500.0, 0.05, 1, worst=True) == 1.0
    assert cm.billed_seconds(1.0, 2.5, 1, worst=True) == 2.5
    rates = [0.01, 0.1, 1.0, 10.0]
    billed = [cm.billed_seconds(rate, 0.05, 1) for rate in rates]
    assert billed == sorted(billed, reverse=True)


@pytest.mark.parametrize("profile", cm.PROFILES, ids=lambda p: p.name)
def test_the_functions_meters_are_priced_as_listed(profile: cm.Profile) -> None:
    m, terms = measured(), cm.Terms.under(INDEXING_POLICY)
    executions = sum(group.executions for group in cm.groups(m, profile, infra()).values())
    worst = cm.cost_parts(m, profile, infra(), terms, worst=True)
    # 500,000 exchanges; every execution (each under a second but the media copy's 1 s) billed 1 s
    # of a 2-GB instance at $0.000026 per GB-s, and $0.40 per million executions.
    assert worst["functions_gb_seconds"] == pytest.approx(500_000 * executions * 2 * 0.000026)
    assert worst["executions"] == pytest.approx(500_000 * executions * 0.40 / 1e6)
    small = cm.cost_parts(m, profile, infra(512), terms)
    large = cm.cost_parts(m, profile, infra(2048), terms)
    assert large["functions_gb_seconds"] == pytest.approx(4 * small["functions_gb_seconds"])
    assert {k: v for k, v in large.items() if k != "functions_gb_seconds"} == pytest.approx(
        {k: v for k, v in small.items() if k != "functions_gb_seconds"}
    )


def test_the_chat_panel_adds_its_polls_loads_and_signals_to_the_measured_executions() -> None:
    typical = next(p for p in cm.PROFILES if p.name == "typical")
    # 10 messages, 5 exchanges: 8 minutes at 12 polls and 5 at 2 is 106 polls, 21.2 an exchange; the
    # first load's 2 calls over 5 exchanges; a read receipt, a typing indicator, a session re-read;
    # a file in 15% of customer messages; the 7 executions measured (4 webhooks, a send, 2 mirrors).
    groups = cm.groups(measured(), typical, infra())
    assert cm.panel_polls(typical) == pytest.approx(21.2)
    assert sum(g.executions for g in groups.values()) == pytest.approx(7 + 21.2 + 0.4 + 3 + 0.15)
    assert groups["mirror"].executions == pytest.approx(2)


def test_every_figure_the_issue_asks_for_is_a_number_and_the_parts_add_up() -> None:
    found = cm.figures(FIXTURE, BICEP, HOST)
    for key in ("ru_per_exchange_estimate", *(f"cost_per_million_usd.{p.name}" for p in cm.PROFILES)):
        assert isinstance(found[key], float)
        assert found[key] > 0
    for p in cm.PROFILES:
        parts = [v for k, v in found.items() if k.startswith(f"cost_per_million_usd_parts.{p.name}.")]
        assert len(parts) == len(rt.PARTS)
        assert sum(parts) == pytest.approx(found[f"cost_per_million_usd.{p.name}"])
        assert found[f"cost_per_million_usd_worst_case.{p.name}"] >= found[f"cost_per_million_usd.{p.name}"]
    # A million sparse messages cost more than a million busy ones: each execution pays a second.
    assert found["cost_per_million_usd.sparse"] > found["cost_per_million_usd.busy"]


def test_the_top_tier_outgrows_serverless_and_one_dataverse_user() -> None:
    found = cm.figures(FIXTURE, BICEP, HOST)
    assert found["capacity.cosmos_ru_per_s"] > cm.SERVERLESS_MAX_RU_PER_S
    assert found["capacity.autoscale_max_ru_per_s"] % 1000 == 0
    assert found["capacity.autoscale_max_ru_per_s"] >= found["capacity.cosmos_ru_per_s"]
    # 6,000 requests per 5 minutes is 20 a second per user and web server; 1,200 a second need 60.
    assert found["capacity.dataverse_requests_per_s_per_user_server"] == pytest.approx(20.0)
    assert found["capacity.dataverse_user_servers"] == math.ceil(1000 * 1.2 / 20)


# ---- the tables quoting results.json ------------------------------------------------------------------
@pytest.mark.parametrize(("relative", "name"), [(f, n) for f, blocks in rt.BLOCKS.items() for n, _ in blocks])
def test_the_tables_are_what_results_json_gives(relative: str, name: str) -> None:
    results = json.loads(RESULTS.read_text())
    render = dict(rt.BLOCKS[relative])[name]
    now = rt.block((rt.ROOT / relative).read_text(), name)
    assert now == render(results), f"{relative} is stale: run .venv/bin/python -m benchmarks.readme_table"


def test_a_figure_not_measured_yet_says_so_and_a_measured_one_its_value() -> None:
    text = rt.readme({"cosmos_requests": {"send": 4.0}, "cost_per_million_usd": {"typical": 12.345}})
    assert "| Cosmos DB requests: agent's send | ≤ 4 | 4 |" in text
    assert "| Estimated USD per million messages, typical | ≤ $25 | $12.35 |" in text
    assert f"| Estimated RU per exchange | ≤ 50 | {rt.NOT_MEASURED} |" in text


def test_a_rewrite_changes_only_what_is_between_the_markers() -> None:
    text = "# Title\n\n<!-- bench:start -->\nold\n<!-- bench:end -->\n\nafter\n"
    assert (
        rt.rewrite(text, "bench", "new")
        == "# Title\n\n<!-- bench:start -->\nnew\n<!-- bench:end -->\n\nafter\n"
    )
    with pytest.raises(ValueError, match="markers"):
        rt.rewrite("no markers", "bench", "new")

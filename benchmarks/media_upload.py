"""Memory and time for large media: a 95 MB PDF uploaded through POST /media (raw body and
multipart), and the same size copied from a stand-in Meta into Blob Storage by the inbound copier;
then the app's peak memory with several of them at once, which sizes the instance and its concurrency.

    make bench        (or: .venv/bin/python -m benchmarks.media_upload)

One case at a time (`media.*`): each runs in a fresh process; the figure is the peak RSS during the
operation (VmHWM, reset just before it) minus the RSS before it, so the request body itself, which
the Functions host hands over in memory, is in the baseline and not in the figure.

Concurrency (`peak_rss_mb_by_concurrency.c1/c2/c4/c8` for uploads, `media.inbound_peak_rss_mb.c1/c2/
c4/c8/c12` for inbound copies, 12 being host.json's batchSize + newBatchThreshold): a fresh
process imports `function_app` and builds the app's adapters as the worker does (`get_services()`),
then runs N uploads (each with its own 95 MB raw body in memory, as N requests would arrive) or N
inbound copies at once, each on its own thread as the Python worker runs sync functions. The figure
is the process's whole peak RSS (VmHWM), the baseline after imports included: what the instance's
worker holds. The stand-in Meta and the emulators run in other processes. `peak_rss_mb` is the upload
figure at the HTTP concurrency infra/app/function-app.bicep sets (HTTP_CONCURRENCY below).
"""

from __future__ import annotations

import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from urllib3 import encode_multipart_formdata
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from benchmarks.common import counting_services, local_settings
from benchmarks.results import record
from shared.api.media import upload_media
from shared.config import Settings
from shared.conversations.documents import MediaInfo, MessageDocument, iso
from shared.conversations.queue_messages import MediaCopyRequest
from shared.media.inbound_copy import CopyInboundMedia
from shared.whatsapp.graph_client import GraphClient

SIZE = 95 * 1024 * 1024
RUNS = 3
CONCURRENCY = (1, 2, 4, 8)
CONCURRENT_RUNS = 2  # the larger peak of two fresh processes
# What infra/app/function-app.bicep sets as the HTTP group's perInstanceConcurrency (docs/deploy.md).
HTTP_CONCURRENCY = 4
# What host.json lets one instance of a queue-triggered function take at once: batchSize + newBatchThreshold.
QUEUE_CONCURRENCY = 12


def reset_peak() -> None:
    """Linux: writing 5 to clear_refs resets the peak RSS (VmHWM), so earlier set-up does not count."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def peak_rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


def document(size: int = SIZE) -> bytes:
    return b"%PDF-1.4\n" + os.urandom(size - 9)


def stand_in_meta(content: bytes) -> tuple[Any, str]:
    """Meta's media lookup and download for any media id: every id is `content`. Threaded."""

    @Request.application
    def meta(request: Request) -> Response:
        if request.path.startswith("/v23.0/"):
            media_id = request.path.rsplit("/", 1)[-1]
            where = {
                "url": f"{base}/download/{media_id}",
                "mime_type": "application/pdf",
                "file_size": len(content),
            }
            return Response(json.dumps(where), content_type="application/json")
        return Response(content, content_type="application/pdf", direct_passthrough=True)

    server = make_server("127.0.0.1", 0, meta, threaded=True)
    base = f"http://127.0.0.1:{server.port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, base


def run_case(case: str) -> dict[str, float]:
    logging.disable(logging.CRITICAL)
    with local_settings() as settings:
        content = document()
        if case == "inbound":
            return _inbound(settings, content)
        services = counting_services(settings, Counter())
        if case == "multipart":
            body, content_type = encode_multipart_formdata({"file": ("big.pdf", content, "application/pdf")})
            headers = {"Content-Type": content_type}
        else:
            body, headers = content, {"Content-Type": "application/pdf", "X-Filename": "big.pdf"}
        del content
        before = current_rss_mb()
        reset_peak()
        start = time.perf_counter()
        response = upload_media(body, headers, {}, None, services)
        elapsed = time.perf_counter() - start
        assert response.status == 201, response.body
        return {"seconds": elapsed, "extra_mb": peak_rss_mb() - before}


def _message(number: str, message_id: str, media_id: str) -> MessageDocument:
    return MessageDocument(
        conversation_id=f"{number}:2", id=message_id, phone_number_id=number, customer_id="2",
        direction="inbound", kind="document", media=MediaInfo(meta_media_id=media_id),
        timestamp=iso(datetime.now(UTC)), sort_key="0", status="received",
    )  # fmt: skip


def _inbound(settings: Settings, content: bytes) -> dict[str, float]:
    server, base = stand_in_meta(content)
    services = counting_services(settings, Counter(), GraphClient(base, "v23.0", "token"))
    services.store.create(_message("1", "big", "m-big").to_document())
    before = current_rss_mb()
    reset_peak()
    start = time.perf_counter()
    request = MediaCopyRequest(conversation_id="1:2", id="big", phone_number_id="1", meta_media_id="m-big")
    outcome = CopyInboundMedia(services.store, services.media, services.sender, services.queue)(request)
    elapsed = time.perf_counter() - start
    assert outcome == "copied", outcome
    server.shutdown()
    return {"seconds": elapsed, "extra_mb": peak_rss_mb() - before}


def run_concurrent(operation: str, count: int) -> dict[str, float]:
    """`count` uploads or inbound copies at once in this (fresh) process, against the emulators and
    the stand-in Meta the parent started (their addresses come in the environment)."""
    logging.disable(logging.CRITICAL)
    import function_app  # noqa: F401 - what the worker imports
    from shared.services import get_services

    services = get_services()
    services.media.ping()  # the Blob SDK, the Graph client: what the first such request would load
    assert services.sender is not None
    baseline = current_rss_mb()
    number = str(time.time_ns() % 10**12)
    work: list[Any] = []
    if operation == "upload":
        headers = {"Content-Type": "application/pdf", "X-Filename": "big.pdf"}
        work = [document() for _ in range(count)]  # each request's body, as the host hands it over
    else:
        for i in range(count):
            services.store.create(_message(number, f"big-{i}", f"m-{number}-{i}").to_document())
            work.append(
                MediaCopyRequest(
                    conversation_id=f"{number}:2",
                    id=f"big-{i}",
                    phone_number_id=number,
                    meta_media_id=f"m-{number}-{i}",
                )
            )
    gate = threading.Barrier(count)
    outcomes: list[object] = []

    def one(item: Any) -> None:
        gate.wait()
        if operation == "upload":
            answer = upload_media(item, headers, {}, None, services)
            outcomes.append(answer.status)
        else:
            copier = CopyInboundMedia(
                services.store, services.media, services.sender, services.queue, services.mirror_timing
            )
            outcomes.append(copier(item))

    threads = [threading.Thread(target=one, args=(item,)) for item in work]
    before = current_rss_mb()
    reset_peak()
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    peak = peak_rss_mb()
    expected = 201 if operation == "upload" else "copied"
    assert outcomes == [expected] * count, outcomes
    _empty_media_container(services)
    return {
        "baseline_mb": baseline,
        "peak_mb": peak,
        "per_operation_mb": (peak - before) / count,
        "seconds": elapsed,
    }


def _empty_media_container(services: Any) -> None:
    """The emulator keeps blobs in memory: remove this run's, so later runs start alike."""
    container = services.media.container
    for blob in container.list_blobs():
        container.delete_blob(blob.name)


def _child(*args: str) -> dict[str, float]:
    found: dict[str, float] = json.loads(
        subprocess.check_output([sys.executable, "-m", "benchmarks.media_upload", *args], text=True)
    )
    return found


def concurrency_figures() -> tuple[dict[str, float], list[str]]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the stand-in Meta's request lines
    figures: dict[str, float] = {}
    rows: list[str] = []
    server, base = stand_in_meta(document())
    try:
        with local_settings(WHATSAPP_GRAPH_BASE_URL=base, WHATSAPP_ACCESS_TOKEN="bench-token"):
            for count in sorted({*CONCURRENCY, QUEUE_CONCURRENCY}):
                runs = range(CONCURRENT_RUNS)
                upload = [_child("concurrent", "upload", str(count)) for _ in runs if count in CONCURRENCY]
                inbound = [_child("concurrent", "inbound", str(count)) for _ in runs]
                in_peak = max(r["peak_mb"] for r in inbound)
                figures |= {
                    f"media.inbound_peak_rss_mb.c{count}": in_peak,
                    f"media.inbound_mb_per_operation.c{count}": max(r["per_operation_mb"] for r in inbound),
                }
                uploads = "not measured"
                if upload:
                    up_peak = max(r["peak_mb"] for r in upload)
                    figures |= {
                        f"peak_rss_mb_by_concurrency.c{count}": up_peak,
                        f"media.upload_mb_per_operation.c{count}": max(r["per_operation_mb"] for r in upload),
                    }
                    uploads = f"{up_peak:.0f} MB ({max(r['seconds'] for r in upload):.1f} s)"
                baseline = min(r["baseline_mb"] for r in upload + inbound)
                figures["media.baseline_rss_mb"] = min(
                    figures.get("media.baseline_rss_mb", baseline), baseline
                )
                slowest = max(r["seconds"] for r in inbound)
                rows.append(f"| {count} | {uploads} | {in_peak:.0f} MB ({slowest:.1f} s) |")
    finally:
        server.shutdown()
    figures["peak_rss_mb"] = figures[f"peak_rss_mb_by_concurrency.c{HTTP_CONCURRENCY}"]
    return figures, rows


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "concurrent":
        print(json.dumps(run_concurrent(sys.argv[2], int(sys.argv[3]))))
        return
    if len(sys.argv) > 1 and not sys.argv[1].startswith("--"):
        print(json.dumps(run_case(sys.argv[1])))
        return
    rows: list[str] = []
    figures: dict[str, float] = {}
    if "--concurrency-only" not in sys.argv:
        for case, label in (
            ("raw", "upload, raw body"),
            ("multipart", "upload, multipart"),
            ("inbound", "inbound copy from Meta"),
        ):
            results = [_child(case) for _ in range(RUNS)]
            seconds = statistics.median(r["seconds"] for r in results)
            extra = statistics.median(r["extra_mb"] for r in results)
            rows.append(f"| {label} (95 MB PDF) | {seconds:.2f} s | {extra:.0f} MB |")
            figures |= {f"media.{case}_seconds": seconds, f"media.{case}_extra_mb": extra}
    together, concurrent_rows = concurrency_figures()
    figures |= together
    record(figures, "benchmarks.media_upload")
    if rows:
        print("| case | time | peak memory above the body |")
        print("|---|---|---|")
        print("\n".join(rows))
        print(f"medians of {RUNS} runs, each in a fresh process, against Azurite")
        print()
    print(f"baseline after imports: {figures['media.baseline_rss_mb']:.0f} MB")
    print("| at once | uploads: peak RSS (slowest) | inbound copies: peak RSS (slowest) |")
    print("|---|---|---|")
    print("\n".join(concurrent_rows))
    print(f"whole-process peak (VmHWM), the larger of {CONCURRENT_RUNS} fresh processes; 95 MB each")


if __name__ == "__main__":
    main()

"""Memory and time for large media: a 95 MB PDF uploaded through POST /media (raw body and
multipart), and the same size copied from a stand-in Meta into Blob Storage by the inbound copier.

    make bench        (or: .venv/bin/python -m benchmarks.media_upload)

Each case runs in a fresh process; the figure reported is the peak RSS during the upload (VmHWM,
reset just before it) minus the RSS before it started, so the request body itself, which the
Functions host hands over in memory, is in the baseline and not in the figure.
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


def _inbound(settings: Settings, content: bytes) -> dict[str, float]:
    @Request.application
    def meta(request: Request) -> Response:
        if request.path == "/v23.0/m-big":
            where = {"url": f"{base}/download", "mime_type": "application/pdf", "file_size": len(content)}
            return Response(json.dumps(where), content_type="application/json")
        return Response(content, content_type="application/pdf", direct_passthrough=True)

    server = make_server("127.0.0.1", 0, meta, threaded=True)
    base = f"http://127.0.0.1:{server.port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    services = counting_services(settings, Counter(), GraphClient(base, "v23.0", "token"))
    now = iso(datetime.now(UTC))
    doc = MessageDocument(
        conversation_id="1:2", id="big", phone_number_id="1", customer_id="2", direction="inbound",
        kind="document", media=MediaInfo(meta_media_id="m-big"), timestamp=now, sort_key="0",
        status="received",
    )  # fmt: skip
    services.store.create(doc.to_document())
    before = current_rss_mb()
    reset_peak()
    start = time.perf_counter()
    request = MediaCopyRequest(conversation_id="1:2", id="big", phone_number_id="1", meta_media_id="m-big")
    outcome = CopyInboundMedia(services.store, services.media, services.sender, services.queue)(request)
    elapsed = time.perf_counter() - start
    assert outcome == "copied", outcome
    server.shutdown()
    return {"seconds": elapsed, "extra_mb": peak_rss_mb() - before}


def main() -> None:
    if len(sys.argv) > 1:
        print(json.dumps(run_case(sys.argv[1])))
        return
    rows: list[str] = []
    figures: dict[str, float] = {}
    for case, label in (
        ("raw", "upload, raw body"),
        ("multipart", "upload, multipart"),
        ("inbound", "inbound copy from Meta"),
    ):
        results = [
            json.loads(
                subprocess.check_output([sys.executable, "-m", "benchmarks.media_upload", case], text=True)
            )
            for _ in range(RUNS)
        ]
        seconds = statistics.median(r["seconds"] for r in results)
        extra = statistics.median(r["extra_mb"] for r in results)
        rows.append(f"| {label} (95 MB PDF) | {seconds:.2f} s | {extra:.0f} MB |")
        figures |= {f"media.{case}_seconds": seconds, f"media.{case}_extra_mb": extra}
    record(figures, "benchmarks.media_upload")
    print("| case | time | peak memory above the body |")
    print("|---|---|---|")
    print("\n".join(rows))
    print(f"medians of {RUNS} runs, each in a fresh process, against Azurite")


if __name__ == "__main__":
    main()

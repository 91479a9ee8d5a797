"""Liveness plus which backends answer, for probes and for a human checking a deployment."""

from __future__ import annotations

from shared.api.responses import ApiResponse, json_response
from shared.conversations.ports import StoreUnavailable
from shared.services import Services


def health(services: Services) -> ApiResponse:
    backends: dict[str, str] = {}
    probes = (
        ("cosmos", services.store.ping),
        ("queues", services.queue.ping),
        ("blobs", services.media.ping),
    )
    for name, probe in probes:
        try:
            probe()
            backends[name] = "ok"
        except StoreUnavailable as error:
            backends[name] = f"unavailable: {error}"
    healthy = all(state == "ok" for state in backends.values())
    return json_response(
        200 if healthy else 503, {"status": "ok" if healthy else "degraded", "backends": backends}
    )

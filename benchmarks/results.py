"""`benchmarks/results.json`: every benchmark adds its figures here, so `make bench` leaves one file with
this run's numbers (the README's and docs/benchmarks.md's tables come from it and the scripts' output).

Keys are dotted (`cosmos_requests.inbound_text`) and stored nested; a key a run does not measure keeps
the value of the last run that did, with the time it was measured next to it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("results.json")


def record(figures: dict[str, float], source: str) -> None:
    """Adds `figures` (dotted keys, numbers) to results.json, under the script that measured them."""
    found: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    for key, value in figures.items():
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise TypeError(f"{key} must be a number, not {value!r}")
        node = found
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = round(float(value), 3)
    found.setdefault("measured_by", {})[source] = datetime.now(UTC).isoformat(timespec="seconds")
    RESULTS.write_text(json.dumps(found, indent=2, sort_keys=True) + "\n")

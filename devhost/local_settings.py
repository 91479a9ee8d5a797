"""Reads local.settings.json (else the sample) the way Core Tools does; the environment wins."""

from __future__ import annotations

import json
import os
from pathlib import Path

from devhost.stack import ROOT


def settings_file(root: Path = ROOT) -> Path:
    own = root / "local.settings.json"
    return own if own.exists() else root / "local.settings.sample.json"


def load_local_settings(path: Path | None = None) -> dict[str, str]:
    """Puts the file's Values into os.environ where the environment does not already set them."""
    values: dict[str, str] = json.loads((path or settings_file()).read_text())["Values"]
    for key, value in values.items():
        os.environ.setdefault(key, str(value))
    return {key: os.environ[key] for key in values}

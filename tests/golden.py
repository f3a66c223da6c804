"""Golden files for the pure stages: compare, or rewrite them with PANELPRESS_UPDATE_GOLDEN=1."""

from __future__ import annotations

import os
from pathlib import Path

GOLDEN = Path(__file__).parent / "golden"


def assert_golden(name: str, actual: str | bytes) -> None:
    """The output must equal tests/golden/<name> byte for byte."""
    data = actual.encode() if isinstance(actual, str) else actual
    path = GOLDEN / name
    if os.environ.get("PANELPRESS_UPDATE_GOLDEN"):
        path.write_bytes(data)
    assert path.is_file(), f"{path} is missing: run the tests once with PANELPRESS_UPDATE_GOLDEN=1 and review it"
    assert data == path.read_bytes(), (
        f"{name} differs from its golden file; if the change is intended, update with PANELPRESS_UPDATE_GOLDEN=1"
    )

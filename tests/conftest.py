"""Shared fixtures: the ../shared data folder, seeded generators, service checks."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SOUNDRY_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
SHARED_TOOLS = SHARED_DATA.parent / "tools"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data, or a skip (with the reason) when this checkout has none beside it."""
    if not SHARED_DATA.is_dir():
        pytest.skip(
            f"needs the shared test data at {SHARED_DATA} (not present beside this checkout)"
        )
    return SHARED_DATA


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator so that every run sees the same 'random' audio."""
    return np.random.default_rng(20261122)


def require_service(name: str, probe: Callable[[], None]) -> None:
    """Skip when a server is absent, but fail in CI, where every service must be there."""
    try:
        probe()
    except Exception as exc:  # the probe's own error says what is missing
        if IN_CI:
            raise
        pytest.skip(f"{name} is not reachable here ({exc}); CI runs this test")

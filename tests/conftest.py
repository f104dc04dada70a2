"""Shared fixtures: where the real public samples live (../shared/data), skipped when absent; an
empty store; the tests' reference time. Shared builders are in tests/helpers/."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import pandas as pd

    from mda.store import Store

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def load_script(name: str, module: str) -> ModuleType:
    """scripts/`name`.py imported as `module` (scripts are not a package)."""
    spec = importlib.util.spec_from_file_location(module, SCRIPTS / f"{name}.py")
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[module] = loaded  # dataclasses look their module up by name
    spec.loader.exec_module(loaded)
    return loaded


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Root of the real public AIS samples; tests using it skip when the folder is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"real public samples not found at {SHARED} (see DESIGN.md)")
    return SHARED


def shared_file(rel: str) -> Path:
    """One real sample file, or skip the test with the reason it is missing."""
    p = SHARED / rel
    if not p.exists():
        pytest.skip(f"real sample {rel} not found under {SHARED}")
    return p


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory) -> None:
    """Keep the zone-index cache of the test run (and its subprocesses) out of ~/.cache."""
    os.environ["MDA_CACHE_DIR"] = str(tmp_path_factory.mktemp("mda-cache"))


@pytest.fixture
def t0() -> pd.Timestamp:
    """The reference time the builders start from (helpers.detect.T0, 2026-03-01 00:00 UTC)."""
    from helpers.detect import T0

    return T0


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """An empty store at tmp_path / "store", closed when the test ends."""
    from mda.store import Store

    with Store(tmp_path / "store") as st:
        yield st

"""Shared fixtures: where the real public samples live (../shared/data), skipped when absent."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

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

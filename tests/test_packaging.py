"""`make demo` installs only the runtime dependencies (issue 12: it used to pull the test
extras, 857 MB), and the demo runs without any of them."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Run the demo with every test extra unimportable, as in a runtime-only venv.
BLOCKED_DEMO = """
import sys
blocked = set(sys.argv[1].split(","))
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in blocked:
            raise ImportError(f"{name} is a test extra")
sys.meta_path.insert(0, Block())
sys.argv = ["mda", "demo", "--out", sys.argv[2]]
from mda.cli import main
sys.exit(main())
"""


def _recipe(makefile: str, target: str) -> tuple[list[str], str]:
    m = re.search(rf"^{re.escape(target)}:([^\n]*)\n((?:\t[^\n]*\n)*)", makefile, re.MULTILINE)
    assert m, f"no {target} rule"
    return m.group(1).split(), m.group(2)


def test_make_demo_installs_the_runtime_dependencies_only():
    makefile = (ROOT / "Makefile").read_text()
    prereqs, _ = _recipe(makefile, "demo")
    assert prereqs == ["$(RUNTIME)"]
    _, install = _recipe(makefile, "$(RUNTIME)")
    assert "pip install --quiet -e ." in install and "[test]" not in install
    test_prereqs, _ = _recipe(makefile, "test")
    assert test_prereqs == ["$(STAMP)"]


def test_the_demo_runs_without_the_test_extras(tmp_path):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    tests = project["optional-dependencies"]["test"]
    names = {re.split(r"[<>=\[ ]", spec)[0].replace("-", "_") for spec in tests}
    assert {"pytest", "playwright", "hypothesis", "movingpandas"} <= names
    out = tmp_path / "demo.html"
    proc = subprocess.run(
        [sys.executable, "-c", BLOCKED_DEMO, ",".join(sorted(names)), str(out)],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert out.stat().st_size > 100_000

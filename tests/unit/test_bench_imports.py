"""Every benchmark still imports: they run only with `make bench`, so a rename in the
product that they use would otherwise go unnoticed until then."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
MODULES = sorted(path.stem for path in BENCH.glob("*.py") if path.stem != "__init__")


@pytest.mark.parametrize("name", MODULES)
def test_benchmark_imports(name: str) -> None:
    module = importlib.import_module(f"bench.{name}")
    assert module.__doc__, f"bench/{name}.py says what it measures in its docstring"


def test_every_benchmark_that_publishes_is_in_make_bench() -> None:
    """A benchmark publishes a ``SECTION`` of docs/benchmarks.md; the rest are its helpers."""
    makefile = (BENCH.parent / "Makefile").read_text()
    publishing = [
        name for name in MODULES if hasattr(importlib.import_module(f"bench.{name}"), "SECTION")
    ]
    assert publishing
    missing = [name for name in publishing if f"-m bench.{name}" not in makefile]
    assert not missing, f"not run by `make bench`: {missing}"

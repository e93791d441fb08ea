"""The shape of the code base, checked: layers import downwards only, services know nothing
of SQL tables or HTTP, and no module grows past what a reader can hold in their head."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "shutterbox"
MAX_LINES = 400


def _modules(under: Path) -> Iterator[Path]:
    for path in sorted(under.rglob("*.py")):
        if "migrations" not in path.relative_to(SRC).parts:
            yield path


def _imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _offending(under: Path, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in _modules(under):
        for name in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                found.append(f"{path.relative_to(SRC)} imports {name}")
    return sorted(set(found))


def test_services_import_neither_tables_nor_the_web_framework() -> None:
    forbidden = ("shutterbox.adapters.db.tables", "starlette", "fastapi")
    assert _offending(SRC / "services", forbidden) == []


def test_services_reach_the_database_only_through_the_metadata_port() -> None:
    forbidden = ("sqlalchemy", "shutterbox.adapters.db.repositories")
    assert _offending(SRC / "services", forbidden) == []


def test_the_domain_depends_on_nothing_but_itself_and_the_standard_library() -> None:
    forbidden = (
        "shutterbox.adapters",
        "shutterbox.services",
        "shutterbox.entrypoints",
        "shutterbox.bootstrap",
        "sqlalchemy",
        "starlette",
        "fastapi",
        "pyvips",
        "obstore",
        "pydantic",
    )
    assert _offending(SRC / "domain", forbidden) == []


@pytest.mark.parametrize(
    ("layer", "above"),
    [
        ("adapters", ("shutterbox.services", "shutterbox.entrypoints", "shutterbox.bootstrap")),
        ("services", ("shutterbox.entrypoints", "shutterbox.bootstrap")),
        ("ports", ("shutterbox.adapters", "shutterbox.services", "shutterbox.entrypoints")),
    ],
)
def test_no_layer_imports_one_above_it(layer: str, above: tuple[str, ...]) -> None:
    assert _offending(SRC / layer, above) == []


def test_no_module_passes_the_line_limit() -> None:
    too_long = {
        str(path.relative_to(SRC)): n
        for path in _modules(SRC)
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert too_long == {}, f"modules over {MAX_LINES} lines: {too_long}"


def test_the_checks_see_the_code_base() -> None:
    """Guards the guards: the walk finds the modules, and a known import is seen."""
    services = list(_modules(SRC / "services"))
    assert len(services) > 10
    assert "shutterbox.domain.errors" in set(_imports(SRC / "services" / "images" / "uploads.py"))


def test_unit_tests_start_no_database_sandbox_or_server() -> None:
    """tests/unit runs on fakes; the same use cases on real adapters live in tests/services."""
    unit = Path(__file__).resolve().parent
    forbidden = (
        "sqlalchemy",
        "shutterbox.adapters.db",
        "shutterbox.adapters.imaging_sandbox",
        "shutterbox.bootstrap",
        "fastapi.testclient",
        "shutterbox.entrypoints.http.app",
    )
    found = [
        f"{path.name} imports {name}"
        for path in sorted(unit.glob("test_*.py"))
        for name in _imports(path)
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    ]
    assert found == []

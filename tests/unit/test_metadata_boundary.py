"""The services reach the database only through the metadata port."""

from __future__ import annotations

import ast
from pathlib import Path

import shutterbox.services

SERVICES = Path(shutterbox.services.__file__).parent
# Being split into checks, repairs and report, with its queries moved to a repository.
NOT_YET = {"storage/scrub.py"}
FORBIDDEN = ("sqlalchemy", "shutterbox.adapters.db.tables", "shutterbox.adapters.db.repositories")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_service_writes_sql():
    offenders = []
    for path in sorted(SERVICES.rglob("*.py")):
        name = path.relative_to(SERVICES).as_posix()
        if name in NOT_YET:
            continue
        bad = [i for i in _imports(path) if i.startswith(FORBIDDEN)]
        if bad:
            offenders.append(f"{name}: {', '.join(sorted(bad))}")
    assert offenders == []

"""The docs keep up with the code: every setting and every command is documented."""

from __future__ import annotations

from pathlib import Path

from typer.main import get_command

from shutterbox.config import Settings
from shutterbox.entrypoints.cli import app

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_is_documented():
    text = (ROOT / "docs" / "configuration.md").read_text()
    for name, field in Settings.model_fields.items():
        assert f"`SHUTTERBOX_{name.upper()}`" in text, name
        assert field.description, f"{name} has no description"


def _groups() -> list[type]:
    return [base for base in Settings.__mro__ if "section" in vars(base)]


def test_every_setting_is_documented_under_its_group():
    text = (ROOT / "docs" / "configuration.md").read_text()
    sections = {
        chunk.split("\n", 1)[0]: chunk for chunk in text.split("\n## ")[1:]
    }  # heading -> its text, up to the next heading
    groups = _groups()
    assert len(groups) >= 5
    grouped = [name for group in groups for name in group.model_fields]  # type: ignore[attr-defined]
    assert sorted(grouped) == sorted(Settings.model_fields)  # each setting in one group
    for group in groups:
        section = sections.get(group.section)  # type: ignore[attr-defined]
        assert section is not None, f"docs/configuration.md has no section {group.section!r}"  # type: ignore[attr-defined]
        for name in group.model_fields:  # type: ignore[attr-defined]
            assert f"`SHUTTERBOX_{name.upper()}`" in section, (group.section, name)  # type: ignore[attr-defined]


def test_every_cli_command_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    group = get_command(app)
    commands = group.commands  # type: ignore[attr-defined]
    for name, command in commands.items():
        subcommands = getattr(command, "commands", None)
        if subcommands:
            for sub in subcommands:
                assert f"shutterbox {name} {sub}" in readme, f"{name} {sub}"
        else:
            assert f"shutterbox {name}" in readme, name


def test_readme_starts_with_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    head = readme[:1500]
    assert "make run" in head and "make test" in head
    makefile = (ROOT / "Makefile").read_text()
    assert "\nrun:" in makefile and "\ntest:" in makefile
    assert "make test" in (ROOT / ".ci" / "run").read_text()

"""The layering rules, checked from the source: which packages may import which."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "iep_followup"


def _imports(path: Path) -> set[str]:
    """Every module a file imports (`from a import b` counts as a and a.b), inside functions too."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _modules(*parts: str) -> list[Path]:
    target = PACKAGE.joinpath(*parts)
    return sorted(target.rglob("*.py")) if target.is_dir() else [target.with_suffix(".py")]


def _offending(files: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in files
        for name in _imports(path)
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    )


def test_the_checked_folders_exist() -> None:
    for part in ("services", "cli", "inbound", "net", "store", "web"):
        assert (PACKAGE / part / "__init__.py").is_file(), part
    assert (PACKAGE / "daemon.py").is_file()


@pytest.mark.parametrize(
    ("where", "forbidden"),
    [
        # Services work with values: the store turns rows into them at its edge.
        (("services",), ("iep_followup.store.models",)),
        # The daemon and the commands go through the Tracker, like any program using the library.
        (("daemon",), ("iep_followup.store",)),
        (("cli",), ("iep_followup.store",)),
        # Parsing only: no database, no use case, no network, no outgoing mail.
        (
            ("inbound",),
            (
                "iep_followup.store",
                "iep_followup.services",
                "iep_followup.net",
                "iep_followup.mail",
            ),
        ),
        # The network edges hand bytes over; they know nothing of what is done with them.
        (("net",), ("iep_followup.store", "iep_followup.services")),
        # The desk calls the Tracker; what it shows comes back as values (views, desk, the
        # package root), in the vocabulary and catalogs the emails use too.
        (("web",), ("iep_followup.store", "iep_followup.services", "iep_followup.mail")),
    ],
    ids=["services", "daemon", "cli", "inbound", "net", "web"],
)
def test_layers_import_only_what_they_may(
    where: tuple[str, ...], forbidden: tuple[str, ...]
) -> None:
    assert _offending(_modules(*where), forbidden) == []

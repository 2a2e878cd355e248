"""Where the shipped email templates and job schedule live, installed or in a source checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _shipped(name: str) -> Path:
    # In a wheel they sit inside the package (see the force-include in pyproject.toml);
    # in a source checkout or editable install, at the top of the tree.
    inside = _PACKAGE / name
    return inside if inside.is_dir() else _PACKAGE.parent.parent / name


def templates_dir() -> Path:
    return _shipped("email_templates")


def jobs_dir() -> Path:
    return _shipped("jobs")


def examples_dir() -> Path:
    return _shipped("examples")

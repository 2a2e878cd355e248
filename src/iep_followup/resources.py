"""Where the shipped email templates, job schedule and example meetings live, installed or not."""

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


def example_meeting_path(name: str = "lucia-annual-review") -> Path:
    """A meeting file shipped with the package, readable from any folder.

    `lucia-annual-review` (the default) gives every member a part; `unbalanced-meeting`
    shows the balance check's warnings.
    """
    return examples_dir() / f"{name}.yaml"

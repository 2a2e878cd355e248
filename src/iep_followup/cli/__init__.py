"""The `iep-followup` command line: readable tables for people, --json for scripts."""

from iep_followup.cli import (  # noqa: F401  (each module registers its commands)
    daemon,
    inbox,
    mail,
    meetings,
    ops,
    people,
    privacy,
    web,
)
from iep_followup.cli.app import cli, main

__all__ = ["cli", "main"]

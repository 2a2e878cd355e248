"""Printing for people (aligned tables) and for scripts (JSON)."""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import click

from iep_followup.balance import BalanceReport
from iep_followup.views import ItemView
from iep_followup.vocabulary import role_label, status_label


def print_items(items: Sequence[ItemView], today: date) -> None:
    rows = [
        [
            str(i.id),
            i.student_external_id,
            cut(i.title, 48),
            f"{i.owner_name} ({role_label(i.owner_role)})",
            i.due_on.isoformat() + (" overdue" if i.is_overdue(today) else ""),
            *_progress(i),
        ]
        for i in items
    ]
    print_table(["ID", "STUDENT", "ITEM", "OWNER", "DUE", "STATUS", "DONE"], rows)


def _progress(item: ItemView) -> tuple[str, str]:
    """STATUS and DONE: a routine under way is kept period by period, so it has no percent and
    "not started" would mislead (its periods are in the digest and on the desk)."""
    if item.is_routine_under_way:
        return "routine", "-"
    return status_label(item.status), f"{item.percent}%"


def print_balance(reports: Sequence[BalanceReport]) -> None:
    for report in reports:
        click.echo(
            f"Balance for {report.student_name} ({report.student_external_id}): {report.open_items} open items"
        )
        rows = [
            [load.name, role_label(load.role), str(load.open_items), f"{load.share:.0%}"]
            for load in report.loads
        ]
        print_table(["MEMBER", "ROLE", "OPEN", "SHARE"], rows)
        if report.warnings:
            click.echo("Warnings:")
            for warning in report.warnings:
                click.echo(f"  ! {warning.message}")
        else:
            click.echo("Everyone has a part, and no one carries too much.")
        click.echo()


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [
        max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)
    ]
    for row in [headers, *rows]:
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def echo_json(value: Any) -> None:
    click.echo(json.dumps(jsonable(value), ensure_ascii=False, indent=2))

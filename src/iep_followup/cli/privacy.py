"""Privacy commands: a student's access log, the child's record as CSV, forgetting a student."""

from __future__ import annotations

import csv
import sys
from zoneinfo import ZoneInfo

import click

from iep_followup.cli.app import Context, cli, pass_context
from iep_followup.cli.output import echo_json, print_table
from iep_followup.desk import RECORD_COLUMNS, record_rows, spreadsheet_safe


@cli.command("access-log")
@click.argument("student_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@pass_context
def access_log(ctx: Context, student_id: str, as_json: bool) -> None:
    """Who saw or changed a student's record.

    Every view of the student's page, printed record and exports, every held reply read,
    every change made on the desk, and the forgetting: who, when (UTC), from where.
    Newest first. Reading it is recorded too.
    """
    with ctx.tracker() as tracker:
        entries = tracker.access_log(student_id)
    if as_json:
        echo_json(entries)
        return
    if not entries:
        click.echo(f"{student_id}: nobody has opened this student's record yet.")
        return
    rows = [
        [e.at.strftime("%Y-%m-%d %H:%M:%S"), e.actor, e.client, e.action.value, e.detail]
        for e in entries
    ]
    print_table(["WHEN (UTC)", "WHO", "FROM", "WHAT", "DETAIL"], rows)


@cli.command("export")
@click.argument("student_id")
@pass_context
def export(ctx: Context, student_id: str) -> None:
    """Print the child's record as CSV.

    The same columns as the desk's download: each item as it stands and its history, then
    every email sent and received about the child. Recorded in the access log.
    """
    with ctx.tracker() as tracker:
        record = tracker.export_record(student_id)
        zone = ZoneInfo(tracker.settings.timezone)
    writer = csv.writer(sys.stdout, lineterminator="\r\n")
    writer.writerow(RECORD_COLUMNS)
    for row in record_rows(record, zone):
        writer.writerow([spreadsheet_safe(value) for value in row])


@cli.group()
def student() -> None:
    """A student's record as a whole."""


@student.command("forget")
@click.argument("student_id")
@click.option("--yes", is_flag=True, help="Do it. Without it, only say what would be removed.")
@pass_context
def forget(ctx: Context, student_id: str, yes: bool) -> None:
    """Remove everything about a student but the permanent record.

    Kept: the student's name, id, school and grade, and the meetings' dates and kinds.
    Removed: strengths, concerns, action items and their updates and notes, meeting notes,
    the text of every email sent or received about the student, the family members (and
    staff on no other team), and the detail of desk audit entries about them. One
    transaction; the forgetting itself is recorded in the access log. A dry run unless --yes.
    """
    with ctx.tracker() as tracker:
        report = tracker.forget_student(student_id, apply=yes)
    if yes:
        click.echo(f"{student_id}: forgotten. Removed:")
    else:
        click.echo(f"{student_id}: a dry run; nothing was changed. Forgetting would remove:")
    for line in report.lines():
        click.echo(f"  {line}")
    if not yes:
        click.echo(f"To do it: iep-followup student forget {student_id} --yes")

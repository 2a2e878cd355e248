"""Retention: the raw text of emails older than IEP_FOLLOWUP_RETAIN_MAIL_DAYS is removed daily."""

from __future__ import annotations

from datetime import datetime, timedelta

from iep_followup.store.db import Database
from iep_followup.store.retention import MailForgotten, forget_mail_before


def forget_old_mail(database: Database, now: datetime, days: int) -> MailForgotten:
    with database.transaction() as session:
        return forget_mail_before(session, now - timedelta(days=days))

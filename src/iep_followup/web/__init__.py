"""The case manager's desk: a small server-rendered web app on top of the Tracker."""

from iep_followup.web.app import create_app

__all__ = ["create_app"]

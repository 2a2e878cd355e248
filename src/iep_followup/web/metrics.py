"""The Prometheus text format of the ops numbers. The one home of prometheus-client."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from iep_followup.operations import OpsMetrics

PREFIX = "iep_followup_"


class _Snapshot(Collector):
    """The numbers read from the database for this scrape (so several replicas agree)."""

    def __init__(self, numbers: OpsMetrics) -> None:
        self.numbers = numbers

    def collect(self) -> Iterable[Metric]:
        n = self.numbers
        yield _labelled("outbox_messages", "Emails in the outbox, by status.", "status", n.outbox)
        yield _gauge(
            "outbox_deferred_messages",
            "Queued emails waiting to be tried again after a temporary failure.",
            n.outbox_deferred,
        )
        yield _gauge(
            "outbox_oldest_queued_age_seconds",
            "How long the oldest queued email has waited (0 when none waits).",
            n.oldest_queued_age_seconds,
        )
        yield _labelled("inbound_messages", "Received messages, by outcome.", "outcome", n.inbound)
        yield _gauge("held_replies", "Replies held for the case manager, waiting.", n.held_waiting)
        yield _gauge(
            "digests_queued", "Case-manager digests queued, not yet sent.", n.digests_queued
        )
        yield _gauge("desk_sign_ins", "Sign-ins to the desk, ever recorded.", n.sign_ins)
        success = GaugeMetricFamily(
            PREFIX + "job_last_success_timestamp_seconds",
            "When each daemon job last succeeded (Unix time, any daemon on the database).",
            labels=["job"],
        )
        duration = GaugeMetricFamily(
            PREFIX + "job_last_duration_seconds",
            "How long each daemon job's last success took.",
            labels=["job"],
        )
        for job in n.jobs:
            success.add_metric([job.name], job.last_success_at.timestamp())
            duration.add_metric([job.name], job.duration_seconds)
        yield success
        yield duration


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(PREFIX + name, documentation, value=value)


def _labelled(
    name: str, documentation: str, label: str, values: dict[str, int]
) -> GaugeMetricFamily:
    family = GaugeMetricFamily(PREFIX + name, documentation, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family


def exposition(numbers: OpsMetrics) -> tuple[bytes, str]:
    """The response body and its content type."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(numbers))
    return generate_latest(registry), CONTENT_TYPE_LATEST

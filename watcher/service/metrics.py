"""Prometheus metrics computed from the database at scrape time.

Nothing is counted in process memory: every number is read from the store when /metrics is
scraped, so several replicas report the same values and nothing is lost across restarts.
Process metrics (RSS, CPU, open fds) come from prometheus_client's own collectors.

The aggregates themselves are queries in `store/stats.py`; this module names and labels them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from sqlalchemy import Connection

from watcher.health import enabled_sources, staleness
from watcher.runtime import Runtime
from watcher.store import documents, stats
from watcher.store import snapshots as store
from watcher.store.engine import transaction

log = logging.getLogger(__name__)
POLL_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
DISPATCH_BUCKETS = (1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 6 * 3600.0, 86400.0)
ALERT_STATUSES = ("pending", "sent", "failed", "dead")
CHANGE_KINDS = ("added", "removed", "modified")


def make_registry(rt: Runtime) -> CollectorRegistry:
    """A registry per app (not the global one), so tests can build several apps."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(rt))
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


class StoreCollector:
    """Yields watcher_* metric families from one read-only transaction per scrape."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("watcher_database_up", "1 if the database answered this scrape")
        try:
            with transaction(self.rt.engine) as conn:
                families = list(_families(self.rt, conn))
        except Exception as exc:  # noqa: BLE001 - a scrape must answer even when the DB is down
            log.warning("metrics: database unavailable", extra={"error": type(exc).__name__})
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families


def _families(rt: Runtime, conn: Connection) -> Iterator[Metric]:
    names = enabled_sources(rt.settings)
    yield from _source_families(rt, conn, names)
    yield _poll_histogram(conn)
    yield _checks_counter(conn)
    yield _changes_counter(conn, names)
    yield _matches_counter(conn)
    yield _alerts_gauge(conn)
    yield _dispatch_histogram(conn)
    yield _lead_time_gauge(conn)


def _lead_time_gauge(conn: Connection) -> Metric:
    """Per document: how long before publication it was seen on public inspection."""
    family = GaugeMetricFamily(
        "watcher_fr_public_inspection_lead_seconds",
        "Federal Register documents: seen on public inspection -> published (seconds)",
        labels=["document"],
    )
    for lead in documents.lead_times(conn):
        family.add_metric([lead["document_number"]], float(lead["lead_time_seconds"] or 0.0))
    return family


def _source_families(rt: Runtime, conn: Connection, names: Sequence[str]) -> Iterator[Metric]:
    success = GaugeMetricFamily(
        "watcher_source_last_success_timestamp_seconds",
        "Unix time of the last successful poll",
        labels=["source"],
    )
    checked = GaugeMetricFamily(
        "watcher_source_last_check_timestamp_seconds",
        "Unix time of the last poll",
        labels=["source"],
    )
    failures = GaugeMetricFamily(
        "watcher_source_consecutive_failures",
        "Failed polls since the last success",
        labels=["source"],
    )
    stale = GaugeMetricFamily(
        "watcher_source_stale", "1 if no success within the staleness limit", labels=["source"]
    )
    size = GaugeMetricFamily(
        "watcher_snapshot_bytes", "Raw size of the latest good snapshot", labels=["source"]
    )
    records = GaugeMetricFamily(
        "watcher_snapshot_records", "Records in the latest good snapshot", labels=["source"]
    )
    now = rt.clock()
    for name in names:
        state = store.get_state(conn, name)
        if state.last_success_at is not None:
            success.add_metric([name], state.last_success_at.timestamp())
        if state.last_check_at is not None:
            checked.add_metric([name], state.last_check_at.timestamp())
        failures.add_metric([name], state.consecutive_failures)
        stale.add_metric(
            [name], 1 if staleness(rt.settings, name, state.last_success_at, now) else 0
        )
        snap = store.latest_snapshot(conn, name, status="ok")
        if snap is not None:
            size.add_metric([name], snap.raw_size)
            records.add_metric([name], snap.record_count)
    yield from (success, checked, failures, stale, size, records)


def _buckets(counts: Sequence[int], bounds: Sequence[float]) -> list[tuple[str, float]]:
    labelled = [(_bound(b), float(c)) for b, c in zip(bounds, counts[:-1], strict=True)]
    return labelled + [("+Inf", float(counts[-1]))]


def _bound(value: float) -> str:
    return str(float(value))


def _poll_histogram(conn: Connection) -> Metric:
    family = HistogramMetricFamily(
        "watcher_poll_duration_seconds", "Duration of every recorded poll", labels=["source"]
    )
    for name, h in stats.poll_durations(conn, POLL_BUCKETS).items():
        family.add_metric([name], _buckets(h.counts, POLL_BUCKETS), h.total)
    return family


def _checks_counter(conn: Connection) -> Metric:
    family = CounterMetricFamily(
        "watcher_checks", "Polls recorded, by outcome", labels=["source", "outcome"]
    )
    for source, outcome, n in stats.check_counts(conn):
        family.add_metric([source, outcome], n)
    return family


def _changes_counter(conn: Connection, names: Sequence[str]) -> Metric:
    family = CounterMetricFamily(
        "watcher_changes", "Changes detected, by source and kind", labels=["source", "kind"]
    )
    counts = stats.change_counts(conn)
    for source in sorted(set(names) | {s for s, _ in counts}):
        for kind in CHANGE_KINDS:
            family.add_metric([source, kind], counts.get((source, kind), 0))
    return family


def _matches_counter(conn: Connection) -> Metric:
    family = CounterMetricFamily(
        "watcher_matches", "Watchlist matches on changes", labels=["source", "watch_kind"]
    )
    for source, kind, n in stats.match_counts(conn):
        family.add_metric([source, kind], n)
    return family


def _alerts_gauge(conn: Connection) -> Metric:
    family = GaugeMetricFamily("watcher_alerts", "Outbox alerts by status", labels=["status"])
    counts = stats.alert_counts(conn)
    for status in sorted(set(ALERT_STATUSES) | set(counts)):
        family.add_metric([status], counts.get(status, 0))
    return family


def _dispatch_histogram(conn: Connection) -> Metric:
    family = HistogramMetricFamily(
        "watcher_alert_dispatch_latency_seconds",
        "From queued (change detected) to delivered, for sent alerts",
    )
    h = stats.dispatch_latency(conn, DISPATCH_BUCKETS)
    family.add_metric([], _buckets(h.counts, DISPATCH_BUCKETS), h.total)
    return family

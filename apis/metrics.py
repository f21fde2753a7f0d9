"""`GET /metrics` in Prometheus' text format, read from the output schema at each scrape.

Workers are processes of their own, often on other hosts, and the database already holds what they
did: every API process answers the same figures, with no registry shared between processes and
nothing lost when a worker restarts.
"""

from collections.abc import Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select

from utils.db import task_store as ts
from utils.db.tables import chunks, tasks

# Seconds: from a demo task to a year of posts.
DURATION_BUCKETS = (1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3_600.0, 4 * 3_600.0, 24 * 3_600.0)


class OutputSchemaCollector(Collector):
    def __init__(self, engine: Engine, now: datetime | None = None) -> None:
        self.engine = engine
        self.now = now

    def collect(self) -> Iterator[Metric]:
        with self.engine.connect() as conn:
            by_status = conn.execute(
                select(tasks.c.type, tasks.c.status, func.count()).group_by(tasks.c.type, tasks.c.status)
            ).all()
            read, excluded, labeled = conn.execute(
                select(
                    func.coalesce(func.sum(chunks.c.rows_read), 0),
                    func.coalesce(func.sum(chunks.c.rows_excluded), 0),
                    func.coalesce(func.sum(chunks.c.rows_labeled), 0),
                )
            ).one()
            finished = conn.execute(
                select(tasks.c.type, tasks.c.status, tasks.c.started_at, tasks.c.finished_at).where(
                    tasks.c.finished_at.is_not(None), tasks.c.started_at.is_not(None)
                )
            ).all()
            running = conn.execute(
                select(tasks.c.id, tasks.c.started_at, tasks.c.total).where(
                    tasks.c.type == ts.PREDICTING_TASK, tasks.c.status == ts.STARTED
                )
            ).all()
            done = ts.rows_done(conn, [t.id for t in running]) if running else {}

        count = GaugeMetricFamily("audience_tasks", "Tasks by type and status.", labels=["type", "status"])
        failures = CounterMetricFamily("audience_task_failures", "Tasks that ended FAILURE, by type.", labels=["type"])
        for task_type, status, n in by_status:
            count.add_metric([task_type, status], n)
            if status == ts.FAILURE:
                failures.add_metric([task_type], n)
        yield count
        yield failures

        for name, value, what in (
            ("audience_rows_read", read, "Source rows read by predicting tasks."),
            ("audience_rows_excluded", excluded, "Source rows a task's pattern set excluded."),
            ("audience_rows_labeled", labeled, "Source rows that got at least one label."),
        ):
            yield CounterMetricFamily(name, what, value=int(value))

        durations = HistogramMetricFamily(
            "audience_task_duration_seconds", "From start to end of finished tasks.", labels=["type", "status"]
        )
        seconds: dict[tuple[str, str], list[float]] = {}
        for task_type, status, started, ended in finished:
            seconds.setdefault((task_type, status), []).append(max((ended - started).total_seconds(), 0.0))
        for (task_type, status), values in sorted(seconds.items()):
            buckets = [(str(le), sum(v <= le for v in values)) for le in DURATION_BUCKETS]
            durations.add_metric([task_type, status], [*buckets, ("+Inf", len(values))], sum(values))
        yield durations

        now = self.now or ts.utcnow()
        rate = GaugeMetricFamily("audience_task_rows_per_second", "Running predicting tasks.", labels=["task_id"])
        progress = GaugeMetricFamily(
            "audience_task_progress_ratio", "Share of a running task's rows read.", labels=["task_id"]
        )
        for task in running:
            read_so_far = done[task.id]["read"]
            elapsed = (now - task.started_at).total_seconds() if task.started_at else 0.0
            rate.add_metric([task.id], read_so_far / elapsed if elapsed > 0 else 0.0)
            if task.total:
                progress.add_metric([task.id], min(read_so_far / task.total, 1.0))
        yield rate
        yield progress


def metrics_text(engine: Engine) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(OutputSchemaCollector(engine))
    return generate_latest(registry)

"""One run of one flow: the lease that keeps it single, the clock it must stop by, what it counted, and
what it tells people (attention items, metrics, alerts)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools.metrics import MetricUnit

from autoxero.alerts import Notice, digest
from autoxero.mapping.common import Problem
from autoxero.observability import logger, metrics
from autoxero.state import AttentionItem, LeaseBusy, LeaseLost, State

if TYPE_CHECKING:
    from autoxero.alerts import Alerts
    from autoxero.autotask.client import AutotaskClient
    from autoxero.autotask.records import MalformedRecord
    from autoxero.runtime import Kept
    from autoxero.settings import SyncSettings
    from autoxero.xero.client import XeroClient

R = TypeVar("R")
SAFETY_MS = 90_000  # stop this long before the Lambda deadline, with state saved
LEASE_SECONDS = 960  # a run's lease, renewed before every write while the run is alive
RUN_SECONDS = 840  # a run with no Lambda deadline (the CLI) stops by then: well inside its lease


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class FlowRun:
    flow: str
    state: State
    settings: SyncSettings
    autotask: AutotaskClient
    xero: XeroClient
    dry_run: bool = False
    now: Callable[[], datetime] = utc_now
    remaining_ms: Callable[[], int] = lambda: 900_000
    safety_ms: int = SAFETY_MS
    counts: Counter[str] = field(default_factory=Counter)
    plans: list[dict[str, Any]] = field(default_factory=list)
    new_attention: list[Notice] = field(default_factory=list)
    stopped: str | None = None
    cache: dict[str, Any] = field(default_factory=dict)
    lease_holder: str | None = None
    kept: Kept | None = None  # what the container keeps between runs for a short while (the console's pages)

    def hold(self) -> None:
        """Called before every write: renew this run's lease, or raise LeaseLost when it lapsed and another run
        may have started. A run that lost its lease must stop without writing anything more."""
        if self.lease_holder is not None:
            self.state.leases.renew(f"run-{self.flow}", self.lease_holder, LEASE_SECONDS)

    def __post_init__(self) -> None:
        self.autotask.records = self  # one malformed Autotask record goes to attention, not through the run

    def malformed(self, record: MalformedRecord) -> None:
        from autoxero.autotask.records import MALFORMED_CODE

        self.counts["malformed"] += 1
        self.problem(record.record_id if record.record_id is not None else record.label,
                     Problem(MALFORMED_CODE, record.message, record.fix,
                             {"entity": record.entity, "problems": list(record.problems)}), record.label)

    def well_formed(self, entity: str, record_id: int) -> None:
        """A record that was malformed reads well now: its item is cleared (only that item). A dry run clears
        nothing, so it does not even read the list."""
        from autoxero.autotask.records import MALFORMED_CODE

        if self.dry_run:
            return
        key = f"malformed:{self.flow}"
        if key not in self.cache:
            self.cache[key] = {(item.record_id, item.context.get("entity"))
                               for item in self.attention_items() if item.code == MALFORMED_CODE}
        if (str(record_id), entity) in self.cache[key]:
            self.state.attention.clear(self.flow, record_id)
            self.cache[key].discard((str(record_id), entity))
            self.counts["resolved"] += 1

    def out_of_time(self) -> bool:
        if self.remaining_ms() < self.safety_ms:
            self.stopped = self.stopped or "stopped before the time limit; the next run continues"
            return True
        return False

    def problem(self, record_id: str | int, problem: Problem, label: str = "", *, flow: str | None = None) -> None:
        """Record a record that needs a person (under `flow`, when another flow's run found it)."""
        flow = flow or self.flow
        self.counts["attention"] += 1
        if self.dry_run:
            self.plans.append({"record": str(record_id), "label": label, "action": "attention", "flow": flow,
                               "detail": problem.message})
            return
        known = self.cache.get(f"attention:{flow}")
        if known is not None:
            known.add(str(record_id))
        existing = self.state.attention.get(flow, record_id)
        self.state.attention.raise_(flow, record_id, code=problem.code, message=problem.message,
                                    fix=problem.fix, label=label, context=problem.context)
        self.state.ledger.append(flow, record_id, "attention", problem.code, {"message": problem.message})
        if existing is None or existing.message != problem.message:
            self.new_attention.append(Notice(label or f"{flow} record {record_id}", problem.message, problem.fix,
                                             self._link(flow, record_id)))

    def _link(self, flow: str, record_id: str | int) -> str | None:
        template = self.settings.invoices.deep_link_template
        return template.format(id=record_id) if flow == "invoices" and template else None

    def resolved(self, record_id: str | int, *, flow: str | None = None) -> None:
        """Clear the record's attention item, if it has one (known from one query per flow per run)."""
        flow = flow or self.flow
        key = f"attention:{flow}"
        if key not in self.cache:
            self.cache[key] = {item.record_id for item in self.state.attention.list(flow)}
        if not self.dry_run and str(record_id) in self.cache[key] and self.state.attention.clear(flow, record_id):
            self.cache[key].discard(str(record_id))
            self.counts["resolved"] += 1

    def without_skipped(self, records: list[R], record_id: Callable[[R], int | str],
                        flow: str | None = None) -> list[R]:
        """The records a person has not marked never to sync (`autoxero attention skip`): one query per run."""
        skipped = self.skipped_ids(flow)
        kept = [r for r in records if str(record_id(r)) not in skipped]
        if len(kept) < len(records):
            self.counts["skipped_by_person"] += len(records) - len(kept)
        return kept

    def attention_items(self, flow: str | None = None) -> list[AttentionItem]:
        """The flow's attention list as this run first read it (one query, shared by its readers: the malformed
        records' check and the console's pages). Items this run raises are not in it."""
        key = f"attention-items:{flow or self.flow}"
        if key not in self.cache:
            self.cache[key] = self.state.attention.list(flow or self.flow)
        items: list[AttentionItem] = self.cache[key]
        return items

    def skipped_ids(self, flow: str | None = None) -> set[str]:
        """The records a person marked never to sync, as this run first read them (one query per flow)."""
        key = f"skipped:{flow or self.flow}"
        if key not in self.cache:
            self.cache[key] = self.state.attention.skipped_ids(flow or self.flow)
        ids: set[str] = self.cache[key]
        return ids

    def plan(self, record_id: str | int, action: str, label: str, detail: Any = None) -> None:
        self.plans.append({"record": str(record_id), "label": label, "action": action, "flow": self.flow,
                           "detail": detail})

    def summary(self) -> dict[str, Any]:
        return {"flow": self.flow, **dict(self.counts), "xero_calls": sum(self.xero.calls.values()),
                "autotask_calls": self.autotask.total_calls, "rate_limit_waits": self.xero.rate_limit_waits,
                "stopped": self.stopped, "dry_run": self.dry_run}


def execute(run: FlowRun, body: Callable[[FlowRun], None], alerts: Alerts | None = None,
            lease_seconds: float = LEASE_SECONDS) -> dict[str, Any]:
    """Run `body` once under the flow's lease (a dry run without it); record, measure and alert on what
    happened."""
    from autoxero.autotask.errors import AutotaskAuthError, AutotaskThrottled
    from autoxero.xero.errors import XeroDayLimitReached, XeroNotConnected, XeroReconnectRequired

    if not run.dry_run:  # the one place every flow run passes: a paused stack writes nothing
        control = run.state.control.status()
        if control.paused:
            run.stopped = f"the stack is {control.describe()}; nothing was written"
            summary = run.summary()
            summary["paused"] = True
            logger.info("flow run skipped: paused", flow=run.flow, paused_by=control.by)
            return summary
    holder = None
    if not run.dry_run:  # a dry run writes nothing, so it needs no lease: a preview works beside a busy run
        holder = run.state.leases.new_holder()
        if not run.state.leases.acquire(f"run-{run.flow}", holder, lease_seconds):
            raise LeaseBusy(f"another {run.flow} run is in progress")
        run.lease_holder = holder
    started = time.monotonic()
    connection: str | None = None
    try:
        body(run)
    except LeaseLost:
        run.stopped = "stopped: the run's lease lapsed and another run may have taken over; nothing more written"
    except (XeroDayLimitReached, AutotaskThrottled) as err:
        run.stopped = str(err)
    except (XeroReconnectRequired, XeroNotConnected, AutotaskAuthError) as err:
        run.stopped = str(err)
        connection = str(err)
    finally:
        if holder is not None:
            run.state.leases.release(f"run-{run.flow}", holder)
    summary = run.summary()
    summary["seconds"] = round(time.monotonic() - started, 3)
    if not run.dry_run:
        run.state.runs.record(run.flow, summary)
        _measure(run)
    notices = run.new_attention if run.settings.alert_on_attention else []
    if alerts and not run.dry_run and (connection or notices):  # one e-mail at most per run
        alerts.notify(*digest(run.flow, notices, connection))
    logger.info("flow run", summary=summary)
    return summary


def _measure(run: FlowRun) -> None:
    if metrics.dimension_set.get("flow") != run.flow:
        metrics.dimension_set["flow"] = run.flow
    for name, key in (("RecordsCreated", "created"), ("RecordsUpdated", "updated"),
                      ("RecordsSkipped", "skipped"), ("AttentionItems", "attention")):
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=run.counts.get(key, 0))
    metrics.add_metric(name="XeroCalls", unit=MetricUnit.Count, value=sum(run.xero.calls.values()))
    metrics.add_metric(name="AutotaskCalls", unit=MetricUnit.Count, value=run.autotask.total_calls)
    metrics.add_metric(name="RateLimitWaits", unit=MetricUnit.Count, value=run.xero.rate_limit_waits)

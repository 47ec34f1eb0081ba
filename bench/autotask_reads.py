"""Benchmark: read 5,000 records of one Autotask entity from the sandbox and count the API calls.

    python -m bench.autotask_reads [--records 5000]

BillingItems (invoice lines) are the entity the invoice flow reads most. The demo tenant's 860 are
cloned under new ids straight into the simulator's state until there are `--records` of them; the client
then reads them all through the real HTTP path (500 a page, nextPageUrl re-POSTed), once as full records,
once with IncludeFields, and once by id lists (`query_in`, 500 ids a query). 5,000 records cannot take
fewer than 10 calls (500 a page); the zone lookup is one call more, once per day per stack.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from autoxero.autotask import AutotaskClient, AutotaskCredentials, Query
from autoxero.autotask.models import BillingItem
from sandbox.autotask.testing import running_autotask
from sandbox.core import SandboxClock

DEMO = Path(__file__).resolve().parents[1] / "sandbox" / "fixtures" / "demo.json"
ENTITY = "BillingItems"
PAGE = 500


def tenant(records: int) -> dict[str, Any]:
    """The demo tenant with exactly `records` BillingItems (demo lines cloned under fresh ids)."""
    demo = json.loads(DEMO.read_text())
    data = dict(demo["autotask"])
    lines = list(data[ENTITY])[:records]
    base = lines or [{"id": 1, "itemName": "Support", "quantity": 1, "rate": 100}]
    next_id = max(line["id"] for line in base) + 1
    i = 0
    while len(lines) < records:
        lines.append({**base[i % len(base)], "id": next_id})
        next_id += 1
        i += 1
    data[ENTITY] = lines
    return {"sandbox": demo["sandbox"], "autotask": data}


def run(records: int = 5_000) -> dict[str, Any]:
    data = tenant(records)
    results: dict[str, Any] = {"records": records, "minimum_calls": -(-records // PAGE), "reads": []}
    with running_autotask(data, clock=SandboxClock(), thread_limit=3, hourly_limit=1_000_000) as at:
        creds = AutotaskCredentials(**data["sandbox"]["autotask"])
        with AutotaskClient(creds, zone_lookup_url=f"{at.url}/atservicesrest") as c:
            c.base_url  # noqa: B018 - discover the zone outside the timings

            def measure(name: str, read: Any) -> None:
                before = c.calls.copy()
                at.sim.calls.reset()
                started = time.perf_counter()
                count = read()
                seconds = time.perf_counter() - started
                made = c.calls - before
                results["reads"].append({
                    "read": name, "records": count, "calls": sum(made.values()),
                    "by_method": {f"{m} {e}": n for (m, e), n in sorted(made.items())},
                    "sandbox_calls": at.sim.calls.snapshot()["calls"], "seconds": round(seconds, 3)})

            measure("query (full records)", lambda: sum(1 for _ in c.query(ENTITY, Query.all())))
            measure("query (IncludeFields)", lambda: sum(1 for _ in c.query(
                ENTITY, Query.all(include_fields=["invoiceID", "totalAmount"]))))
            ids = [line["id"] for line in data["autotask"][ENTITY]]
            measure("query_in (ids, models)", lambda: sum(1 for _ in c.query_in(ENTITY, BillingItem, "id", ids)))
            results["zone_calls"] = c.calls[("GET", "zoneInformation")]
    return results


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--records", type=int, default=5_000)
    args = parser.parse_args(argv)
    results = run(args.records)
    print(f"Autotask reads: {results['records']:,} {ENTITY} (minimum {results['minimum_calls']} calls at "
          f"{PAGE} a page; zone lookup: {results['zone_calls']} call, cached for a day)")
    print(f"{'read':<26}{'records':>9}{'calls':>7}{'seconds':>9}  calls by endpoint")
    for row in results["reads"]:
        detail = ", ".join(f"{k}: {v}" for k, v in row["sandbox_calls"].items())
        print(f"{row['read']:<26}{row['records']:>9,}{row['calls']:>7}{row['seconds']:>9.3f}  {detail}")
    return results


if __name__ == "__main__":
    main()

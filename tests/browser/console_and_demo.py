"""`autoxero console --port 0`, run exactly as `python -m autoxero_cli console --port 0` runs it, which first runs
the demo (`make demo`'s path) and then serves the world it leaves. One thing is added: what the demo did (its
result) and the simulators' invoices at that moment are written to the file named by the first argument, so the
demo's own end-to-end checks read the same run the browser tests use instead of running the demo a second time;
and the demo's report goes to the directory named by the second argument rather than the repository's out/.

    python tests/browser/console_and_demo.py RESULT_FILE REPORT_DIR
"""

from __future__ import annotations

import pickle
import runpy
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from autoxero_cli.demo import Demo, World

RESULT_FILE, REPORT_DIR = Path(sys.argv[1]), Path(sys.argv[2])
demo_world = Demo.world


@contextmanager
def world_and_its_result(self: Demo, port: int = 0) -> Iterator[World]:
    self.out = REPORT_DIR
    with demo_world(self, port) as world:
        xero = [i for i in world.sandbox.xero.state("Invoices") if i["Type"] == "ACCREC"]
        autotask = world.sandbox.autotask.state("Invoices")
        RESULT_FILE.write_bytes(pickle.dumps((self.result, xero, autotask)))
        yield world


Demo.world = world_and_its_result  # type: ignore[method-assign]
sys.argv = ["autoxero", "console", "--port", "0"]
runpy.run_module("autoxero_cli", run_name="__main__", alter_sys=True)

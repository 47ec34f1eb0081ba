"""Cold start: import and init time of each handler from the built layer (compiled bytecode, no
__pycache__ writes), in a fresh interpreter each, median of several runs; and the layer's size."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / ".aws-sam" / "build"
LAYER = ROOT / ".aws-sam" / "host-layer" / "python"
ARM_LAYER = BUILD / "SharedLayer" / "python"
HANDLERS = {"SyncContactsFunction": "sync", "SyncInvoicesFunction": "sync", "SyncPurchaseOrdersFunction": "sync",
            "SyncPaymentsFunction": "sync", "XeroWebhookFunction": "webhook", "AutotaskWebhookFunction": "webhook",
            "XeroConnectFunction": "connect", "ConsoleFunction": "console"}
GOALS_MS = {"sync": 500, "webhook": 250, "connect": 500, "console": 500}


# What the Lambda Python runtime brings beside a function's code and layers: the AWS SDK for Python, boto3 with
# botocore and s3transfer ("Lambda runtimes ... include the AWS SDK", docs.aws.amazon.com/lambda/latest/dg/
# lambda-python.html). Nothing else of this machine's venv (rich, click, pygments: the CLI's) may be importable,
# or a library that tries an optional import (httpx imports its command line, with click and rich, when it can)
# would pay for it here and not in Lambda.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer")


@cache
def runtime_sdk() -> str:
    """A directory holding only the runtime's packages (links into this venv)."""
    root = Path(tempfile.mkdtemp(prefix="autoxero-lambda-runtime-"))
    purelib = Path(sysconfig.get_paths()["purelib"])
    for name in RUNTIME_PACKAGES:
        (root / name).symlink_to(purelib / name, target_is_directory=True)
    return str(root)


def size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1_000_000


def init_ms(function: str, runs: int = 5) -> tuple[float, float, float]:
    """(import + init ms, median of `runs`; its CPU ms, median: less sensitive to a busy machine than the wall
    time; the process's peak RSS in MB after it, the largest seen)."""
    # Peak RSS as VmHWM: getrusage's ru_maxrss would carry over the (large) parent's size across fork and exec.
    program = ("import sys, time\n"
               f"sys.path.append({runtime_sdk()!r})\n"
               "t, c = time.perf_counter(), time.process_time()\n"
               "import app\n"
               "hwm = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM:'))\n"
               "print((time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000, hwm / 1024)\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(BUILD / function), str(LAYER)]),
           "PYTHONDONTWRITEBYTECODE": "1", "AWS_LAMBDA_FUNCTION_NAME": function, "AWS_DEFAULT_REGION": "us-east-1",
           "AUTOXERO_TABLE": "t", "AUTOXERO_XERO_SECRET": "x", "AUTOXERO_AUTOTASK_SECRET": "a",
           "POWERTOOLS_SERVICE_NAME": "autoxero"}
    samples, cpu, rss = [], [], []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-S", "-c", program], env=env, capture_output=True, text=True,
                              check=True, timeout=120)
        ms, cpu_ms, mb = done.stdout.strip().splitlines()[-1].split()
        samples.append(float(ms))
        cpu.append(float(cpu_ms))
        rss.append(float(mb))
    return statistics.median(samples), statistics.median(cpu), max(rss)


def measure() -> dict[str, object]:
    if not LAYER.exists() or not BUILD.exists():
        return {"error": "no build: run `make build` first"}
    return {"layer_mb_unzipped_arm64": round(size_mb(ARM_LAYER), 1) if ARM_LAYER.exists() else None,
            "handlers": {name: (*(round(x, 1) for x in init_ms(name)), GOALS_MS[kind])
                         for name, kind in HANDLERS.items()}}

"""Shared fixtures. moto is imported and fake credentials set before anything creates a boto3 session:
a client whose session predates `import moto` would not be mocked (docs/toolchain.md §4.3)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_METRICS_NAMESPACE": "Autoxero", "POWERTOOLS_SERVICE_NAME": "autoxero",
})
os.environ.pop("AWS_ENDPOINT_URL", None)
# Each test process its own record of the running sandbox (pytest-xdist runs several): never the developer's
# .autoxero/local.json, never another worker's.
os.environ["AUTOXERO_LOCAL_FILE"] = os.path.join(
    tempfile.gettempdir(), f"autoxero-tests-{os.getpid()}", "local.json")

import moto
import pytest
from aws_lambda_powertools.utilities import parameters

from autoxero.state import State, StateTable
from autoxero_cli import aws_calls
from autoxero_cli.local_stack import LocalStack
from tests import fast_stand_ins

AWS_CALLS = aws_calls.install()
# moto's per-test costs that answer nothing, paid once per test process (tests/fast_stand_ins.py).
fast_stand_ins.install()


@pytest.fixture(autouse=True)
def every_aws_call_is_granted():
    """Every AWS call a function made during the test is allowed by that function's own policy in
    template.yaml (expanded by the SAM transform): moto would let a refused call pass (cli/autoxero_cli/iam.py)."""
    start = len(AWS_CALLS.calls)
    yield
    refused = sorted({(c.function, c.action, c.resource) for c in AWS_CALLS.denied(start)})
    del AWS_CALLS.calls[start:]
    if refused:
        pytest.fail("AWS calls their function's IAM policy does not grant (AccessDenied in AWS):\n"
                    + "\n".join(f"  {f}: {a} on {r}" for f, a, r in refused), pytrace=False)


class FakeClock:
    """A settable clock for state tests (leases expire without sleeping)."""

    def __init__(self, start: float = 1_780_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@contextmanager
def fresh_moto() -> Iterator[None]:
    """A moto of its own (a test's, or a module's that shares one deployment), with DynamoDB's item writes
    atomic as in AWS (cli/autoxero_cli/moto_fidelity.py) and no cached parameter from another moto."""
    from autoxero_cli.moto_fidelity import atomic_dynamodb_items

    atomic_dynamodb_items()
    with moto.mock_aws():
        parameters.clear_caches()
        yield
        parameters.clear_caches()


@pytest.fixture
def aws():
    with fresh_moto():
        yield


@pytest.fixture
def stack(aws) -> LocalStack:
    return LocalStack(name="acme-test", parameters={"CustomerName": "Acme", "AlarmEmail": "ops@example.com",
                                                    "LedgerRetentionDays": "400", "LogLevel": "INFO"}).create()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def state(stack: LocalStack, clock: FakeClock) -> State:
    return State.over(StateTable.connect(stack.physical["StateTable"], clock=clock, region_name="us-east-1"))


@pytest.fixture
def log_lines():
    """The JSON lines the Powertools logger emits, as Lambda would ship them to CloudWatch."""
    import io
    import json
    import logging

    from autoxero.observability import logger

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger._logger.addHandler(handler)

    def read() -> tuple[str, list[dict]]:
        text = stream.getvalue()
        return text, [json.loads(line) for line in text.splitlines() if line.startswith("{")]

    yield read
    logger._logger.removeHandler(handler)

"""A local deployment per test: moto (in-process) for the stack's resources, the sandbox for the APIs."""

from __future__ import annotations

import pytest

from autoxero.autotask.limiter import LocalLimiter
from autoxero_cli.local import LocalDeployment
from sandbox.server import Sandbox, load_fixture
from tests import fast_stand_ins

# For the whole test process: `make unit` collects every directory, so every test's stack is made without
# moto's per-test costs that answer nothing (tests/fast_stand_ins.py); a run of one other directory alone
# gets the same answers, only slower.
fast_stand_ins.install()


@pytest.fixture(scope="session")
def demo_fixture() -> dict:
    return load_fixture()


@pytest.fixture(scope="session")
def sandbox():
    with Sandbox.start() as running:
        yield running


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def local(aws, sandbox, demo_fixture, sleeps) -> LocalDeployment:
    sandbox.load(demo_fixture)
    deployment = LocalDeployment.create(sandbox, options={
        "autotask": {"limiter": LocalLimiter(), "sleep": sleeps.append},
        "xero": {"sleep": sleeps.append},
    })
    deployment.connect_xero_directly()
    deployment.go_live("tests")
    return deployment


@pytest.fixture
def runtime(local):
    return local.runtime()

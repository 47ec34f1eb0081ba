"""A local deployment per test: moto (in-process) for the stack's resources, the sandbox for the APIs (or one per
module, `module_local`, for a module whose tests read one world in turn)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from autoxero.autotask.limiter import LocalLimiter
from autoxero_cli.local import LocalDeployment
from sandbox.server import Sandbox, load_fixture
from tests.conftest import fresh_moto


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


def deploy(sandbox: Sandbox, fixture: dict[str, Any], sleep: Callable[[float], Any], *,
           live: bool = True) -> LocalDeployment:
    """The sandbox loaded with `fixture`, and a stack in the moto now running: connected to Xero and live, or
    (`live=False`) as a new stack is, never connected, no settings pushed, paused."""
    sandbox.load(fixture)
    deployment = LocalDeployment.create(sandbox, options={
        "autotask": {"limiter": LocalLimiter(), "sleep": sleep},
        "xero": {"sleep": sleep},
    })
    if live:
        deployment.connect_xero_directly()
        deployment.go_live("tests")
    return deployment




@pytest.fixture
def local(aws, sandbox, demo_fixture, sleeps) -> LocalDeployment:
    return deploy(sandbox, demo_fixture, sleeps.append)


@pytest.fixture(scope="module")
def module_local(sandbox, demo_fixture) -> Iterator[LocalDeployment]:
    """One deployment for the whole module, in a moto of its own: the module's tests share it in file order,
    so each must leave it as the next one expects (and use no per-test `aws` or `local` of their own)."""
    with fresh_moto():
        yield deploy(sandbox, demo_fixture, lambda _: None)


@pytest.fixture
def runtime(local):
    return local.runtime()

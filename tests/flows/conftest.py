"""A local deployment per test: moto (in-process) for the stack's resources, the sandbox for the APIs (or one per
module, `module_local`, for a module whose tests read one world in turn)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import moto
import pytest
from aws_lambda_powertools.utilities import parameters

from autoxero.autotask.limiter import LocalLimiter
from autoxero_cli.local import LocalDeployment
from autoxero_cli.moto_fidelity import atomic_dynamodb_items
from sandbox.server import Sandbox, load_fixture


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


def deploy(sandbox: Sandbox, fixture: dict[str, Any], sleep: Callable[[float], Any]) -> LocalDeployment:
    """The sandbox loaded with `fixture`, and a stack connected to Xero and live, in the moto now running."""
    sandbox.load(fixture)
    deployment = LocalDeployment.create(sandbox, options={
        "autotask": {"limiter": LocalLimiter(), "sleep": sleep},
        "xero": {"sleep": sleep},
    })
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
    atomic_dynamodb_items()
    with moto.mock_aws():
        parameters.clear_caches()
        yield deploy(sandbox, demo_fixture, lambda _: None)
        parameters.clear_caches()


@pytest.fixture
def runtime(local):
    return local.runtime()

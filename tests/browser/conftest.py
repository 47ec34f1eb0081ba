"""The demo end to end, then the console in a real browser: `autoxero console` runs in a subprocess exactly as a
person starts it (console_and_demo.py), which runs the demo first and serves the world it leaves (the local managed
login, the local gateway verifying JWTs as API Gateway's authorizer does); Debian's chromium, driven by Playwright,
signs in to it. One demo serves both: the demo's result is handed back from the subprocess for its own checks.
Truth is read from the state table (moto) and the simulators' own state.

Each test's screenshots go to out/console/.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
CONSOLE_AND_DEMO = Path(__file__).with_name("console_and_demo.py")
SHOTS = ROOT / "out" / "console"
CHROMIUM = os.environ.get("AUTOXERO_CHROMIUM", "/usr/bin/chromium")
# No network on the test machines: without these Chromium hangs on its own background connections.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASSWORD = "Sandbox-Console-1"
USERS = {"operator": "operator@harbourit.example", "viewer": "viewer@harbourit.example"}
STARTUP_SECONDS = 480  # the demo runs first; on a busy 2-core machine that takes minutes


@dataclass
class Served:
    url: str
    info: dict[str, Any]
    process: subprocess.Popen[str]
    demo: tuple[Any, list[dict[str, Any]], list[dict[str, Any]]]  # DemoResult; Xero's and Autotask's invoices then

    def runtime(self) -> Any:
        from autoxero.config import RuntimeConfig
        from autoxero.runtime import Runtime
        from autoxero.secrets import SecretStore
        from autoxero.state import State, StateTable

        endpoint = self.info["aws_endpoint"]
        rt = Runtime(RuntimeConfig.from_env(self.info["environment"]))
        rt.__dict__["secrets"] = SecretStore(boto3.client("secretsmanager", region_name="us-east-1",
                                                          endpoint_url=endpoint))
        rt.__dict__["state"] = State.over(StateTable.connect(rt.config.table_name, region_name="us-east-1",
                                                             endpoint_url=endpoint))
        return rt

    def xero_state(self, entity: str) -> list[dict[str, Any]]:
        answer = httpx.get(f"{self.info['xero_url']}/_sandbox/state/{entity}", timeout=30).raise_for_status()
        return list(answer.json()[entity])

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        """Run a function of the stack against the served sandbox, as its schedule would."""
        from autoxero_cli.invoke import invoke
        from autoxero_cli.local_stack import LocalStack

        stack = LocalStack(self.info["stack"], self.info["aws_endpoint"])
        stack.physical.update({"StateTable": self.info["environment"]["AUTOXERO_TABLE"]})
        saved = dict(os.environ)
        try:
            env = {**self.info["environment"], "AWS_ENDPOINT_URL": self.info["aws_endpoint"]}
            return invoke(logical_id, event, stack, env)
        finally:
            os.environ.clear()
            os.environ.update(saved)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    state_file = tmp_path_factory.mktemp("console") / "local.json"
    result_file = state_file.with_name("demo-result.pickle")
    env = {**os.environ, "AUTOXERO_LOCAL_FILE": str(state_file), "PYTHONUNBUFFERED": "1"}
    env.pop("AWS_ENDPOINT_URL", None)
    log = tmp_path_factory.mktemp("console-log") / "console.log"
    with log.open("w") as sink:
        process = subprocess.Popen([sys.executable, str(CONSOLE_AND_DEMO), str(result_file),
                                    str(tmp_path_factory.mktemp("demo-report"))], cwd=ROOT,
                                   env=env, stdout=sink, stderr=subprocess.STDOUT, text=True,
                                   start_new_session=True)
    deadline = time.monotonic() + STARTUP_SECONDS
    while not state_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"`autoxero console` did not start:\n{log.read_text()[-3000:]}")
        time.sleep(1)
    info = json.loads(state_file.read_text())
    demo = pickle.loads(result_file.read_bytes())  # noqa: S301 -- written by the subprocess this fixture started
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        yield Served(info["gateway_url"], info, process, demo)
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def browser(served: Served) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (apt-get install chromium)")

    # Playwright gives every launch a fresh temporary profile (--user-data-dir) of its own.
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield chromium
        chromium.close()


def sign_in(browser: Any, served: Served, role: str) -> Any:
    """A fresh browser context signed in through the managed login as `role`; returns its page."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(120_000)
    page = context.new_page()
    page.goto(f"{served.url}/console/login")
    page.wait_for_url("**/_cognito/oauth2/authorize**")
    page.fill("input[name=username]", USERS[role])
    page.fill("input[name=password]", PASSWORD)
    page.click("#signin-submit")
    page.wait_for_url(f"{served.url}/console/")
    return page


def shoot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def post_from_page(page: Any, path: str, fields: dict[str, str]) -> dict[str, Any]:
    """A form POST made by the page's own script (through the service worker, so it carries the person's token),
    with the CSRF token the page was given: what a person could forge from the browser's console."""
    return dict(page.evaluate(
        """async ([path, fields]) => {
            const body = new URLSearchParams(fields);
            body.set("csrf", document.querySelector('meta[name=csrf]').content);
            const answer = await fetch(path, {method: "POST", body});
            return {status: answer.status, text: await answer.text()};
        }""", [path, fields]))


class Ui:
    """What the tests do with the browser (a fixture, as test modules cannot import each other here)."""

    users = USERS

    def __init__(self, browser: Any, served: Served) -> None:
        self.browser, self.served = browser, served

    def sign_in(self, role: str) -> Any:
        return sign_in(self.browser, self.served, role)

    shoot = staticmethod(shoot)
    post = staticmethod(post_from_page)


@pytest.fixture
def ui(browser: Any, served: Served) -> Ui:
    return Ui(browser, served)

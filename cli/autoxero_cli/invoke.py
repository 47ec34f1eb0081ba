"""Run a function of template.yaml locally, the way `sam local invoke` would, without Docker.

The handler, its code folder, the layer and the environment all come from template.yaml; AWS calls go to
moto and API calls to the sandbox. In-process for speed and log capture; `built=True` runs the artifacts
of `sam build` (and a host-platform build of the layer) in a fresh interpreter, as a cold start would.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import sysconfig
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from autoxero_cli.local_stack import LocalStack
from autoxero_cli.template import ROOT, FunctionSpec, functions

BUILD_DIR = ROOT / ".aws-sam" / "build"
HOST_LAYER_DIR = ROOT / ".aws-sam" / "host-layer" / "python"


class InvokeError(RuntimeError):
    pass


@dataclass
class FakeContext:
    """The parts of LambdaContext the handlers and Powertools read."""

    function_name: str
    timeout_seconds: int
    memory_limit_in_mb: int = 256
    function_version: str = "$LATEST"
    aws_request_id: str = ""
    log_group_name: str = ""
    log_stream_name: str = ""

    def __post_init__(self) -> None:
        self.aws_request_id = self.aws_request_id or str(uuid.uuid4())
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def spec_for(logical_id: str) -> FunctionSpec:
    specs = functions()
    if logical_id not in specs:
        raise InvokeError(f"no function {logical_id!r} in template.yaml; choose one of {', '.join(sorted(specs))}")
    return specs[logical_id]


@contextmanager
def _environment(env: dict[str, str]) -> Any:
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _load_handler(spec: FunctionSpec) -> Any:
    name = f"autoxero_function_{spec.logical_id}"
    module_spec = importlib.util.spec_from_file_location(name, spec.module_file)
    if module_spec is None or module_spec.loader is None:
        raise InvokeError(f"cannot load {spec.module_file}")
    module: ModuleType = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    module_spec.loader.exec_module(module)
    return getattr(module, spec.function_name)


def invoke(logical_id: str, event: dict[str, Any], stack: LocalStack, env: dict[str, str] | None = None,
           context: FakeContext | None = None) -> Any:
    """Invoke in this process with the function's environment; returns what the handler returns."""
    from autoxero.runtime import reset_runtime

    spec = spec_for(logical_id)
    with _environment(stack.environment(logical_id, env)):
        reset_runtime()
        try:
            handler = _load_handler(spec)
            return handler(event, context or FakeContext(stack.function_name(logical_id), spec.timeout, spec.memory))
        finally:
            reset_runtime()


def invoke_built(logical_id: str, event: dict[str, Any], stack: LocalStack,
                 env: dict[str, str] | None = None) -> dict[str, Any]:
    """Invoke the `sam build` artifacts in a fresh interpreter; returns the result and the init time."""
    spec = spec_for(logical_id)
    code_dir = BUILD_DIR / logical_id
    if not code_dir.exists() or not HOST_LAYER_DIR.exists():
        raise InvokeError("no built artifacts: run `make build` first")
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOXERO_")}
    child_env.update(stack.environment(logical_id, env))
    child_env["PYTHONPATH"] = os.pathsep.join([str(code_dir), str(HOST_LAYER_DIR)])
    child_env["PYTHONDONTWRITEBYTECODE"] = "1"  # /opt and /var/task are read-only in Lambda
    program = (
        "import json, sys, time, importlib\n"
        "t0 = time.perf_counter()\n"
        f"module = importlib.import_module({spec.module_file.stem!r})\n"
        "init_ms = (time.perf_counter() - t0) * 1000\n"
        "import autoxero\n"
        "from autoxero_cli.invoke import FakeContext\n"
        f"ctx = FakeContext({stack.function_name(logical_id)!r}, {spec.timeout})\n"
        f"result = getattr(module, {spec.function_name!r})(json.loads(sys.stdin.read()), ctx)\n"
        "print(json.dumps({'result': result, 'init_ms': init_ms, 'layer': autoxero.__file__}, default=str))\n"
    )
    child_env["PYTHONPATH"] += os.pathsep + str(ROOT / "cli")
    done = subprocess.run([sys.executable, "-S", "-c", _with_site(program)], input=json.dumps(event),  # noqa: S603
                          capture_output=True, text=True, env=child_env, timeout=120, check=False)
    if done.returncode != 0:
        raise InvokeError(f"{logical_id} failed:\n{done.stderr.strip()[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _with_site(program: str) -> str:
    # -S keeps the dev install's .pth (which puts the source tree on sys.path) out; the venv's
    # site-packages (boto3, as the Lambda runtime provides it) goes after PYTHONPATH so the built
    # layer's copies win, as /opt/python does in Lambda.
    site_packages = sysconfig.get_paths()["purelib"]
    return f"import sys\nsys.path.append({site_packages!r})\n" + program

"""template.yaml read as data: the one description of the stack that tests, the local invoker and the
demo all build from, so nothing about the stack is written twice."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation's short-form intrinsics (!Ref, !Sub, ...) as {"Ref": ...} style dicts."""


def _intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


@cache
def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    return dict(yaml.load(path.read_text(), Loader=_CfnLoader))  # noqa: S506 (a SafeLoader subclass)


def resources(kind: str | None = None, path: Path = TEMPLATE) -> dict[str, dict[str, Any]]:
    found = load_template(path)["Resources"]
    return {k: v for k, v in found.items() if kind is None or v["Type"] == kind}


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str
    environment: dict[str, Any]
    timeout: int
    memory: int
    events: dict[str, Any]

    @property
    def module_file(self) -> Path:
        return self.code_dir / (self.handler.rsplit(".", 1)[0] + ".py")

    @property
    def function_name(self) -> str:
        return self.handler.rsplit(".", 1)[1]


def functions(path: Path = TEMPLATE) -> dict[str, FunctionSpec]:
    template = load_template(path)
    glob = template.get("Globals", {}).get("Function", {})
    specs = {}
    for logical_id, res in resources("AWS::Serverless::Function", path).items():
        props = res["Properties"]
        env = {**glob.get("Environment", {}).get("Variables", {}),
               **props.get("Environment", {}).get("Variables", {})}
        specs[logical_id] = FunctionSpec(
            logical_id=logical_id, code_dir=path.parent / props["CodeUri"], handler=props["Handler"],
            environment=env, timeout=int(props.get("Timeout", glob.get("Timeout", 3))),
            memory=int(props.get("MemorySize", glob.get("MemorySize", 128))), events=props.get("Events", {}),
        )
    return specs

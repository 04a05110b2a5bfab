"""Read the functions, routes and queue wiring out of a SAM template."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that keeps CloudFormation intrinsics (``!Ref X``) as ``{"Ref": X}``-like dicts."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


@dataclass(frozen=True)
class Route:
    method: str  # GET, POST, ... or ANY
    path: str
    function: str
    regex: re.Pattern = field(compare=False)
    rank: tuple = field(compare=False)


@dataclass
class Function:
    name: str
    code_uri: Path
    handler: str
    timeout: int
    sqs_queues: list[str]


@dataclass
class Template:
    path: Path
    functions: dict[str, Function]
    routes: list[Route]

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """API Gateway HTTP API matching: the most specific route wins, exact method over ANY."""
        best = None
        for route in self.routes:
            if route.method not in (method, "ANY"):
                continue
            m = route.regex.fullmatch(path)
            if m is None:
                continue
            rank = (*route.rank, route.method == "ANY")
            if best is None or rank < best[0]:
                best = (rank, route, m.groupdict())
        return None if best is None else (best[1], best[2])

    def queue_consumer(self) -> Function | None:
        """The function fed by an SQS event source (the fan-out function)."""
        for fn in self.functions.values():
            if fn.sqs_queues:
                return fn
        return None


def _route(method: str, path: str, function: str) -> Route:
    parts = []
    greedy = params = 0
    literal = 0
    for seg in path.strip("/").split("/"):
        if seg.startswith("{") and seg.endswith("+}"):
            parts.append(f"(?P<{seg[1:-2]}>.+)")
            greedy += 1
        elif seg.startswith("{") and seg.endswith("}"):
            parts.append(f"(?P<{seg[1:-1]}>[^/]+)")
            params += 1
        else:
            parts.append(re.escape(seg))
            literal += 1
    regex = re.compile("/" + "/".join(parts) + ("/?" if path.endswith("/") else ""))
    return Route(method.upper(), path, function, regex, (greedy, params, -literal))


def load(path: str | Path = "template.yaml") -> Template:
    path = Path(path).resolve()
    doc = yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    glob = (doc.get("Globals") or {}).get("Function") or {}
    functions: dict[str, Function] = {}
    routes: list[Route] = []
    for name, res in (doc.get("Resources") or {}).items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        props = {**glob, **(res.get("Properties") or {})}
        queues = []
        for ev in (props.get("Events") or {}).values():
            p = ev.get("Properties") or {}
            if ev.get("Type") == "HttpApi":
                routes.append(_route(p.get("Method", "ANY").replace("ANY", "ANY"), p["Path"], name))
            elif ev.get("Type") == "SQS":
                q = p.get("Queue")
                queues.append(q["Fn::GetAtt"][0] if isinstance(q, dict) and "Fn::GetAtt" in q else str(q))
        functions[name] = Function(
            name=name,
            code_uri=(path.parent / props["CodeUri"]).resolve(),
            handler=props["Handler"],
            timeout=int(props.get("Timeout", 3)),
            sqs_queues=queues,
        )
    return Template(path, functions, routes)

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


@dataclass(frozen=True)
class Cors:
    """An HTTP API's ``CorsConfiguration`` (API Gateway's names, values as the template gives them)."""

    allow_origins: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None
    allow_credentials: bool = False


@dataclass
class Template:
    path: Path
    functions: dict[str, Function]
    routes: list[Route]
    cors: Cors | None = None

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

    def methods(self, path: str) -> set[str]:
        """The methods some route serves ``path`` with (empty: no route knows the path)."""
        return {r.method for r in self.routes if r.regex.fullmatch(path)}

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


def _value(doc: dict, value: Any) -> Any:
    """Resolve ``!Ref Parameter`` to the parameter's default, as a deployment without overrides gets it."""
    if isinstance(value, dict) and "Ref" in value:
        param = ((doc.get("Parameters") or {}).get(value["Ref"])) or {}
        if "Default" not in param:
            raise ValueError(f"CorsConfiguration refers to {value['Ref']!r}, which has no default")
        default = param["Default"]
        if param.get("Type") == "CommaDelimitedList" and isinstance(default, str):
            return [v.strip() for v in default.split(",")]
        return default
    return value


def _strings(doc: dict, value: Any) -> tuple[str, ...]:
    value = _value(doc, value)
    if value is None:
        return ()
    return tuple(str(v) for v in (value if isinstance(value, list) else [value]))


def _cors(doc: dict, conf: Any) -> Cors | None:
    """SAM's ``CorsConfiguration``: ``true`` allows everything, a mapping names what is allowed."""
    conf = _value(doc, conf)
    if conf is None or conf is False:
        return None
    if conf is True:
        return Cors(("*",), ("*",), ("*",))
    max_age = _value(doc, conf.get("MaxAge"))
    return Cors(
        allow_origins=_strings(doc, conf.get("AllowOrigins")),
        allow_methods=tuple(m.upper() for m in _strings(doc, conf.get("AllowMethods"))),
        allow_headers=_strings(doc, conf.get("AllowHeaders")),
        expose_headers=_strings(doc, conf.get("ExposeHeaders")),
        max_age=None if max_age is None else int(max_age),
        allow_credentials=str(_value(doc, conf.get("AllowCredentials", False))).lower() == "true",
    )


def load(path: str | Path = "template.yaml") -> Template:
    path = Path(path).resolve()
    doc = yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    glob = (doc.get("Globals") or {}).get("Function") or {}
    functions: dict[str, Function] = {}
    routes: list[Route] = []
    cors: Cors | None = None
    for name, res in (doc.get("Resources") or {}).items():
        if res.get("Type") == "AWS::Serverless::HttpApi":
            # the local stack is one HTTP API: the template's (there is one) gives the CORS rules
            cors = _cors(doc, (res.get("Properties") or {}).get("CorsConfiguration"))
            continue
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
    return Template(path, functions, routes, cors)

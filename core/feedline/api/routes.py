"""Route lists: each concept declares its routes here-shaped, a function's ``Api`` includes them.

A route function takes the ``Request`` first and the path values (percent-decoded once) after it,
and returns a ``Reply``. ``hot=True`` puts a route ahead of the others in the dispatch order (the
feed read: the one route whose microseconds matter).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

RouteFn = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    fn: RouteFn
    hot: bool = False

    def pattern(self) -> re.Pattern[str]:
        """``/feed/<slug>/<uid>/`` -> a regex with one group per ``<name>`` (one path segment)."""
        parts = re.split(r"<\w+>", self.path)
        return re.compile("([^/]+)".join(re.escape(p) for p in parts))


class Routes:
    """An ordered list of routes, filled by decorators at import (nothing else runs there)."""

    def __init__(self) -> None:
        self.items: list[Route] = []

    def route(self, method: str, path: str, *, hot: bool = False) -> Callable[[RouteFn], RouteFn]:
        def register(fn: RouteFn) -> RouteFn:
            self.items.append(Route(method, path, fn, hot))
            return fn
        return register

    def get(self, path: str, *, hot: bool = False) -> Callable[[RouteFn], RouteFn]:
        return self.route("GET", path, hot=hot)

    def post(self, path: str) -> Callable[[RouteFn], RouteFn]:
        return self.route("POST", path)

    def put(self, path: str) -> Callable[[RouteFn], RouteFn]:
        return self.route("PUT", path)

    def delete(self, path: str) -> Callable[[RouteFn], RouteFn]:
        return self.route("DELETE", path)

"""Dotted paths of partial updates (``set`` / ``unset``) applied to an activity document."""

from __future__ import annotations

from feedline.errors import InputException


def set_path(doc: dict, parts: list[str], value: object) -> None:
    node = doc
    for i, part in enumerate(parts[:-1]):
        nxt = node.get(part)
        if nxt is None:
            nxt = node[part] = {}
        elif not isinstance(nxt, dict):
            path = ".".join(parts[: i + 1])
            raise InputException.field(".".join(parts), f"{path!r} is not an object")
        node = nxt
    node[parts[-1]] = value


def unset_path(doc: dict, parts: list[str]) -> None:
    node: object = doc
    for part in parts[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            return  # nothing there to unset
    if isinstance(node, dict):
        node.pop(parts[-1], None)

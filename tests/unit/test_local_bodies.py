"""The bounded ASGI body read shared by the API port and the Faye endpoint."""

from __future__ import annotations

import asyncio

import pytest

from feedline.local.bodies import BodyTooLarge, read_body


def _receiver(*messages):
    queue = list(messages)

    async def receive():
        return queue.pop(0)

    return receive


def test_chunks_are_joined():
    receive = _receiver({"type": "http.request", "body": b"ab", "more_body": True},
                        {"type": "http.request", "body": b"cd"})
    assert asyncio.run(read_body(receive, 4)) == b"abcd"


def test_a_disconnect_is_none():
    receive = _receiver({"type": "http.request", "body": b"ab", "more_body": True}, {"type": "http.disconnect"})
    assert asyncio.run(read_body(receive, 10)) is None


def test_a_body_beyond_the_bound_stops_at_the_chunk_that_crossed_it():
    receive = _receiver({"type": "http.request", "body": b"abc", "more_body": True},
                        {"type": "http.request", "body": b"de", "more_body": True})
    with pytest.raises(BodyTooLarge):
        asyncio.run(read_body(receive, 4))

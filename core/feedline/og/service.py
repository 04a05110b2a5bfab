"""The Open Graph service: fetch a page, read its metadata, remember the answer a while.

The cache is per execution environment (a warm Lambda, a `feedline dev` worker): link previews of
one URL come in bursts (the UI kit asks again as the user types), and a page's tags rarely change
within minutes. Failures are not cached: a page that was down may be up on the next try.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from feedline.errors import InputException
from feedline.og.fetch import FetchError, Limits, Page, fetch
from feedline.og.parse import has_metadata, parse

CACHE_SIZE = 256
CACHE_TTL_S = 600.0


class OgError(InputException):
    """The URL cannot be previewed: refused, unreachable, not HTML, or no metadata (a 400)."""


class OgService:
    def __init__(self, limits: Limits, fetcher: Callable[[str, Limits], Page] = fetch,
                 clock: Callable[[], float] = time.monotonic):
        self.limits = limits
        self.fetcher = fetcher
        self.clock = clock
        self._cache: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def scrape(self, url: str) -> dict[str, Any]:
        """Stream's Open Graph object for ``url`` (without ``duration``); OgError when there is none."""
        cached = self._cached(url)
        if cached is not None:
            return cached
        try:
            page = self.fetcher(url, self.limits)
        except FetchError as exc:
            raise OgError(f"cannot read Open Graph data from url: {exc}", {"url": [str(exc)]}) from None
        found = parse(page.html, page.url)
        if not has_metadata(found):
            raise OgError("the page at url has no Open Graph metadata (no title, description or image)",
                          {"url": ["no metadata found"]})
        with self._lock:
            self._cache[url] = (self.clock() + CACHE_TTL_S, found)
            self._cache.move_to_end(url)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return dict(found)

    def _cached(self, url: str) -> dict[str, Any] | None:
        with self._lock:
            hit = self._cache.get(url)
            if hit is None:
                return None
            if hit[0] < self.clock():
                del self._cache[url]
                return None
            self._cache.move_to_end(url)
            return dict(hit[1])

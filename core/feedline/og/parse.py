"""Open Graph metadata from an HTML page: ``og:*``, ``twitter:*``, ``<title>``, ``<meta name=description>``,
``<link rel=icon>`` (pure: text in, a dict out; the stdlib parser, which never raises on bad HTML).

The answer has Stream's shape (docs/api.md, "Open Graph"): ``title, type, url, site, site_name,
description, determiner, locale, favicon, images, videos, audios``, each only when the page has it.
Structured properties (``og:image:width`` ...) belong to the latest ``og:image`` before them, as
the protocol says. URLs are made absolute against the page's URL; only http(s) ones are kept.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

#: characters kept of any one text value, and media items kept of each kind
MAX_TEXT = 1000
MAX_ITEMS = 10

_TEXT = {"og:title": "title", "og:type": "type", "og:site_name": "site_name", "og:description": "description",
         "og:determiner": "determiner", "og:locale": "locale", "twitter:site": "site"}
_MEDIA = {"og:image": ("images", "image"), "og:video": ("videos", "video"), "og:audio": ("audios", "audio")}
_MEDIA_FIELDS = {"url", "secure_url", "type", "width", "height", "alt"}
_FALLBACK = {"twitter:title": "title", "twitter:description": "description", "description": "description"}


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: list[tuple[str, str]] = []
        self.icons: list[str] = []
        self.title: list[str] = []
        self._in_title = False
        self._titles = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "meta":
            key = (a.get("property") or a.get("name") or "").strip().lower()
            if key and "content" in a:
                self.meta.append((key, a["content"]))
        elif tag == "link":
            rels = a.get("rel", "").lower().split()
            if ("icon" in rels or "apple-touch-icon" in rels) and a.get("href"):
                self.icons.append(a["href"])
        elif tag == "title" and self._titles == 0:
            self._in_title = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self._in_title:
            self._in_title = False
            self._titles += 1

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)


def _text(value: str) -> str:
    return " ".join(value.split())[:MAX_TEXT]


def _absolute(base: str, value: str) -> str | None:
    value = value.strip()
    if not value or len(value) > 2048:
        return None
    try:
        url = urljoin(base, value)
        return url if urlsplit(url).scheme in ("http", "https") else None
    except ValueError:
        return None


def _media_field(item: dict[str, Any], field: str, value: str, base: str) -> None:
    if field in ("width", "height"):
        digits = value.strip()
        if digits.isdigit() and len(digits) <= 6:
            item[field] = int(digits)
    elif field in ("url", "secure_url"):
        url = _absolute(base, value)
        if url is not None:
            item[field] = url
    elif _text(value):
        item[field] = _text(value)


def _start(out: dict[str, list[dict[str, Any]]], key: str, value: str, base: str) -> dict[str, Any] | None:
    kind, name = _MEDIA[key]
    url = _absolute(base, value)
    items = out.setdefault(kind, [])
    if url is None or len(items) >= MAX_ITEMS:
        return None
    item: dict[str, Any] = {name: url, "url": url}
    items.append(item)
    return item


def _media(meta: list[tuple[str, str]], base: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    current: dict[str, dict[str, Any] | None] = {}
    for key, value in meta:
        if key in _MEDIA:  # og:image starts an item; the structured properties after it are its own
            current[key] = _start(out, key, value, base)
            continue
        prefix, _, field = key.rpartition(":")
        if prefix not in _MEDIA or field not in _MEDIA_FIELDS:
            continue
        target = current.get(prefix)
        if target is None and field == "url":  # og:image:url alone is og:image
            current[prefix] = _start(out, prefix, value, base)
        elif target is not None:
            _media_field(target, field, value, base)
    return {k: v for k, v in out.items() if v}


def parse(html: str, page_url: str) -> dict[str, Any]:
    """The page's metadata in Stream's shape (no ``duration``): only keys the page has."""
    collector = _Collector()
    collector.feed(html)
    collector.close()
    out: dict[str, Any] = {}
    for key, value in collector.meta:
        name = _TEXT.get(key)
        if name is not None and name not in out and _text(value):
            out[name] = _text(value)
    og_url = next((v for k, v in collector.meta if k == "og:url"), None)
    base = page_url
    if og_url is not None and _absolute(page_url, og_url) is not None:
        out["url"] = _absolute(page_url, og_url)
    for key, value in collector.meta:
        name = _FALLBACK.get(key)
        if name is not None and name not in out and _text(value):
            out[name] = _text(value)
    if "title" not in out and _text("".join(collector.title)):
        out["title"] = _text("".join(collector.title))
    out.update(_media(collector.meta, base))
    if "images" not in out:
        twitter = next((v for k, v in collector.meta if k in ("twitter:image", "twitter:image:src")), None)
        url = _absolute(base, twitter) if twitter is not None else None
        if url is not None:
            out["images"] = [{"image": url, "url": url}]
    for href in collector.icons:
        icon = _absolute(base, href)
        if icon is not None:
            out["favicon"] = icon
            break
    return out


def has_metadata(found: dict[str, Any]) -> bool:
    """Whether there is anything to preview: a title, a description or an image."""
    return bool(found.get("title") or found.get("description") or found.get("images"))

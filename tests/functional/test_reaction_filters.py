"""The reaction filter's paging through the service on the embedded backend: ``filter_user_id``
reads the listing in bounded slices, and its cursors never lose or repeat a reaction, also when a
page is cut short by the scan bound."""

from __future__ import annotations

import json

import pytest

from feedline import runtime
from feedline.config import AppConfig, Settings
from feedline.models import ids
from feedline.reactions import service as reaction_service
from feedline.reactions.inputs import Filter, NewReaction
from feedline.reactions.store import ACTIVITY, Scope
from feedline.storage.sqlite import open_stores
from tests.conftest import API_KEY, API_SECRET


@pytest.fixture
def rt(tmp_path):
    r = runtime.build(Settings(app=AppConfig(API_KEY, API_SECRET), sqlite_path=str(tmp_path / "f.db")),
                      stores=open_stores(tmp_path / "f.db"))
    yield r
    r.close()


def pages(rt, f: Filter) -> tuple[list[str], int]:
    """Every id a filter yields, following its cursors; and how many pages it took."""
    seen, n = [], 0
    while True:
        page = rt.reactions.filter(f)
        n += 1
        seen += [rt_id(r) for r in page.results]
        if page.next is None:
            return seen, n
        f = Filter(f.scope, f.limit, {page.next.name: ids.key_to_uuid(page.next.after)}, filter_user=f.filter_user)


def rt_id(body: bytes) -> str:
    return json.loads(body)["id"]


@pytest.mark.parametrize("scan", [500, 7])
def test_filter_user_id_pages_exactly(rt, monkeypatch, scan):
    monkeypatch.setattr(reaction_service, "MAX_FILTER_SCAN", scan)
    made = [rt_id(rt.reactions.add(NewReaction("like", f"u{i % 5}", "act", "", {}))) for i in range(60)]
    want = [m for i, m in enumerate(made) if i % 5 == 1]
    got, n = pages(rt, Filter(Scope(ACTIVITY, "act"), 4, {}, filter_user="u1"))
    assert got == want[::-1]
    # 12 matches in pages of 4; a scan bound of 7 reads at most 7 reactions a request: >= 9 pages
    assert n == 3 if scan == 500 else n >= 9
    up, _ = pages(rt, Filter(Scope(ACTIVITY, "act"), 4, {"id_gt": "00000000-0000-1000-8080-000000000000"},
                             filter_user="u1"))
    assert up == want
    everyone, _ = pages(rt, Filter(Scope(ACTIVITY, "act"), 25, {}))
    assert everyone == made[::-1]

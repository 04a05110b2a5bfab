"""docs/openapi.yaml describes what the server answers: every served route is called through the
local runner (API Gateway event -> handler -> core -> storage, on each backend), and each answer's status must be
documented for its operation and its body must validate against the documented schema."""

from __future__ import annotations

import io
import json
import re
import uuid
from http.server import ThreadingHTTPServer
from threading import Thread
from urllib.parse import urlencode

import jwt
import pytest
from PIL import Image

from feedline.config import AppConfig, Settings
from feedline.local import template
from feedline.local.runner import LocalStack
from tests.conftest import API_KEY, API_SECRET, BACKENDS, ROOT
from tests.unit.test_og import Pages
from tests.unit.test_openapi import document, registered_routes, schema_validator
from tests.unit.test_openapi import template as route_template

SERVER = jwt.encode({"resource": "*", "action": "*", "feed_id": "*"}, API_SECRET, algorithm="HS256")


def _pointer_part(text: str) -> str:
    return text.replace("~", "~0").replace("/", "~1")


class Checked:
    """Calls the stack and checks each answer against the document; records the 2xx operations."""

    def __init__(self, stack: LocalStack):
        self.stack = stack
        self.answered: set[tuple[str, str]] = set()
        paths = document()["paths"]
        # concrete segments win over templated ones, as OpenAPI matching says
        self.routes = sorted(
            ((re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(p)) + "$"), p) for p in paths),
            key=lambda rp: rp[1].count("{"))

    def __call__(self, method: str, path: str, body: object = None, *, expect: int = 200,
                 token: str = SERVER, key: str = API_KEY, form: tuple[str, bytes] | None = None,
                 **query: str) -> dict:
        qs = urlencode({"api_key": key, **query})
        raw = json.dumps(body).encode() if body is not None else b""
        headers = {"Authorization": token, "stream-auth-type": "jwt"}
        if form is not None:  # a multipart upload (files and images, docs/api.md §17)
            raw = (b'--b0und\r\nContent-Disposition: form-data; name="file"; filename="' + form[0].encode()
                   + b'"\r\nContent-Type: application/octet-stream\r\n\r\n' + form[1] + b"\r\n--b0und--\r\n")
            headers["Content-Type"] = "multipart/form-data; boundary=b0und"
        status, headers, out = self.stack.http(method, f"{path}?{qs}", headers, raw)
        assert status == expect, out
        assert headers.get("content-type") == "application/json"
        answer = json.loads(out)
        doc_path, op = self._operation(method, path)
        assert str(status) in op["responses"], f"{method} {doc_path}: {status} is not documented"
        response = op["responses"][str(status)]
        if "$ref" in response:
            pointer = response["$ref"][1:]
        else:
            pointer = f"/paths/{_pointer_part(doc_path)}/{method.lower()}/responses/{status}"
        schema_validator(f"{pointer}/content/application~1json/schema").validate(answer)
        if 200 <= status < 300:
            self.answered.add((method, route_template(doc_path)))
        return answer

    def _operation(self, method: str, path: str) -> tuple[str, dict]:
        doc_path = next(p for rx, p in self.routes if rx.match(path))
        return doc_path, document()["paths"][doc_path][method.lower()]

    def content(self, url: str) -> bytes:
        """GET a file URL the API handed out, with no credentials (as an ``<img>`` does): a
        documented binary 200."""
        target = url.split("://", 1)[1].split("/", 1)[1]
        status, headers, out = self.stack.http("GET", f"/{target}", {}, b"")
        assert status == 200, out
        doc_path, op = self._operation("GET", "/" + target.split("?")[0])
        assert "application/octet-stream" in op["responses"]["200"]["content"]
        assert headers.get("content-type") != "application/json"
        self.answered.add(("GET", route_template(doc_path)))
        return out


@pytest.fixture(params=[pytest.param(b, marks=[pytest.mark.cassandra] if b == "cassandra" else [])
                        for b in BACKENDS])
def call(request, tmp_path):
    if request.param == "cassandra":
        settings = request.getfixturevalue("cassandra_settings")
    else:
        settings = Settings(app=AppConfig(API_KEY, API_SECRET), sqlite_path=str(tmp_path / "f.db"))
    settings = settings.with_(og_allow_private=True)  # the Open Graph check reads a page on 127.0.0.1
    stack = LocalStack(template.load(ROOT / "template.yaml"), settings)
    yield Checked(stack)
    stack.close()


def test_every_served_route_answers_as_documented(call):
    u = uuid.uuid4().hex[:10]
    feed, timeline = f"/api/v1.0/feed/user/{u}/", f"/api/v1.0/feed/timeline/{u}/"
    act = {"actor": u, "verb": "like", "object": "photo:1", "foreign_id": "like:1", "time": "2024-05-01T10:00:00",
           "rating": {"stars": 5}}

    # feeds (docs/api.md §5)
    call("POST", f"{timeline}follows/", {"target": f"user:{u}"})
    one = call("POST", feed, act)
    call("POST", feed, {"activities": [dict(act, foreign_id="like:2"), dict(act, foreign_id="like:3")]})
    call("POST", feed, {"actor": u, "verb": "x"}, expect=400)
    page = call("GET", timeline, limit="1")
    assert page["next"] and page["results"][0]["origin"] == f"user:{u}"
    call("GET", timeline, verb="like", actor=u)
    call("GET", feed, ranking="popular", expect=400)
    call("GET", feed, key="wrong", expect=401)
    call("GET", feed, token=jwt.encode({"resource": "feed", "action": "read", "feed_id": "other"}, API_SECRET,
                                       algorithm="HS256"), expect=403)
    call("GET", "/api/v1.0/feed/nosuch/1/", expect=400)
    call("POST", "/api/v1.0/feed/add_to_many/",
         {"activity": dict(act, foreign_id="many:1"), "feeds": [f"aggregated:{u}", f"notification:{u}"]})
    call("GET", f"/api/v1.0/feed/aggregated/{u}/")
    call("GET", f"/api/v1.0/feed/notification/{u}/", mark_seen="true")
    marked = call("POST", f"/api/v1.0/feed/notification/{u}/mark/", {"mark_read": True, "limit": 5})
    assert marked["unseen"] == 0 and marked["unread"] == 0
    call("POST", f"{feed}mark/", {"mark_read": True}, expect=400)
    call("DELETE", f"{feed}like:3/", foreign_id="1")
    call("DELETE", f"{feed}not-an-id/", expect=400)

    # follows (docs/api.md §5.6-§5.11)
    call("POST", f"{timeline}following/", {"target": f"topic:{u}", "activity_copy_limit": 0})
    call("GET", f"{timeline}follows/", limit="10")
    call("GET", f"{timeline}following/", filter=f"user:{u}")
    call("GET", f"{feed}followers/")
    call("DELETE", f"{timeline}following/topic:{u}/")
    call("DELETE", f"{timeline}follows/user:{u}/", keep_history="true")
    call("POST", "/api/v1.0/follow_many/", [{"source": f"timeline:{u}", "target": f"user:{u}"}],
         activity_copy_limit="5")
    call("POST", "/api/v1.0/unfollow_many/", [{"source": f"timeline:{u}", "target": f"user:{u}",
                                               "keep_history": False}])
    call("POST", "/api/v1.0/unfollow_many/", [{"source": f"timeline:{u}", "target": 3}], expect=400)
    call("GET", "/api/v1.0/stats/follow/", followers=f"user:{u}", following=f"timeline:{u}")

    # app-level activities (docs/api.md §6)
    got = call("GET", "/api/v1.0/activities/", ids=one["id"])
    assert [a["id"] for a in got["results"]] == [one["id"]]
    call("GET", "/api/v1.0/activities/", foreign_ids="like:1", timestamps=act["time"])
    call("POST", "/api/v1.0/activities/", {"activities": [dict(act, verb="love")]})
    batch = call("POST", "/api/v1.0/activity/", {"changes": [{"id": one["id"], "set": {"rating.stars": 4}}]})
    assert batch["activities"][0]["rating"] == {"stars": 4}
    call("POST", "/api/v1.0/activity/", {"foreign_id": "like:1", "time": act["time"], "unset": ["rating"]})
    call("POST", "/api/v1.0/activity/", {"id": str(uuid.uuid1()), "set": {"a": 1}}, expect=404)
    moved = call("POST", f"/api/v1.0/feed_targets/user/{u}/activity_to_targets/",
                 {"foreign_id": "like:1", "time": act["time"], "added_targets": [f"notification:{u}"]})
    assert moved["added"] == [f"notification:{u}"]
    call("POST", f"/api/v1.0/feed_targets/user/{u}/activity_to_targets/",
         {"foreign_id": "nope", "time": act["time"], "new_targets": []}, expect=404)
    # enrichment (docs/api.md §13)
    call("GET", f"/api/v1.0/enrich/feed/user/{u}/", withReactionCounts="true", withRecentReactions="true",
         withOwnReactions="true", user_id=u)
    call("GET", f"/api/v1.0/enrich/feed/notification/{u}/", limit="0")
    call("GET", "/api/v1.0/enrich/activities/", ids=one["id"], withReactionCounts="true")
    gone = call("DELETE", "/api/v1.0/activities/", foreign_ids="like:1,like:2")
    assert one["id"] in gone["removed"]
    call("GET", "/api/v1.0/activities/", token=jwt.encode({"user_id": u}, API_SECRET, algorithm="HS256"),
         ids=one["id"], expect=403)

    # reactions (docs/api.md §9)
    like = call("POST", "/api/v1.0/reaction/", {"kind": "like", "activity_id": str(uuid.uuid1()), "user_id": u,
                                                "data": {"n": 1}})
    child = call("POST", "/api/v1.0/reaction/", {"kind": "comment", "parent": like["id"], "user_id": u,
                                                 "data": {"text": "hi"}})
    call("POST", "/api/v1.0/reaction/", {"kind": "bad kind", "activity_id": str(uuid.uuid1()), "user_id": u},
         expect=400)
    call("GET", f"/api/v1.0/reaction/{like['id']}/")
    call("GET", "/api/v1.0/reaction/get_many/", ids=f"{like['id']},{child['id']}")
    call("GET", f"/api/v1.0/reaction/activity_id/{like['activity_id']}/", limit="5")
    call("GET", f"/api/v1.0/reaction/reaction_id/{like['id']}/comment/")
    call("PUT", f"/api/v1.0/reaction/{like['id']}/", {"data": {"n": 2}})
    call("DELETE", f"/api/v1.0/reaction/{child['id']}/", soft="true")
    call("PUT", f"/api/v1.0/reaction/{child['id']}/restore/", {})
    call("DELETE", f"/api/v1.0/reaction/{child['id']}/")
    call("GET", f"/api/v1.0/reaction/{child['id']}/", expect=404)

    # users (docs/api.md §10)
    call("POST", "/api/v1.0/user/", {"id": u, "data": {"name": "Ann"}})
    call("POST", "/api/v1.0/user/", {"id": u, "data": {}}, expect=409)
    call("GET", f"/api/v1.0/user/{u}/", with_follow_counts="true")
    call("PUT", f"/api/v1.0/user/{u}/", {"data": {"name": "Annie"}})
    call("DELETE", f"/api/v1.0/user/{u}/")
    call("GET", f"/api/v1.0/user/{u}/", expect=404)

    # collections (docs/api.md §11)
    call("POST", "/api/v1.0/collections/food/", {"id": f"i{u}", "data": {"name": "pie"}})
    call("GET", f"/api/v1.0/collections/food/i{u}/")
    call("PUT", f"/api/v1.0/collections/food/i{u}/", {"data": {"name": "cake"}})
    call("POST", "/api/v1.0/collections/", {"data": {"food": [{"id": f"j{u}", "name": "tart"}]}})
    call("GET", "/api/v1.0/collections/", foreign_ids=f"food:i{u},food:j{u}")
    call("DELETE", "/api/v1.0/collections/", collection_name="food", ids=f"j{u}")
    call("DELETE", f"/api/v1.0/collections/food/i{u}/")

    # analytics (docs/api.md §12)
    call("POST", "/analytics/v1.0/engagement/", {"content_list": [
        {"content": "photo:1", "label": "click", "user_data": u, "feed_id": f"user:{u}"}]})
    call("POST", "/analytics/v1.0/impression/", [
        {"content_list": ["photo:1"], "user_data": u, "feed_id": f"user:{u}"}])

    # files and images (docs/api.md §17)
    png = io.BytesIO()
    Image.new("RGB", (20, 10)).save(png, "PNG")
    file_url = call("POST", "/api/v1.0/files/", form=("a.txt", b"hello"))["file"]
    assert call.content(file_url) == b"hello"
    image_url = call("POST", "/api/v1.0/images/", form=("a.png", png.getvalue()))["file"]
    call("POST", "/api/v1.0/images/", form=("a.png", b"not an image"), expect=400)
    assert call.content(image_url) == png.getvalue()
    small = call("GET", "/api/v1.0/images/", url=image_url, w="4")["file"]
    assert Image.open(io.BytesIO(call.content(small))).size == (4, 2)
    call("DELETE", "/api/v1.0/images/", url=image_url)
    call("DELETE", "/api/v1.0/files/", url=file_url)
    call("DELETE", "/api/v1.0/files/", url=file_url, expect=404)

    # Open Graph (docs/api.md §18): a page on a local server (the stack allows private addresses)
    pages = ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    Thread(target=pages.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{pages.server_address[1]}"
        assert call("GET", "/api/v1.0/og/", url=f"{base}/page")["title"] == "The & Title"
        call("GET", "/api/v1.0/og/", url=f"{base}/nothing", expect=400)
    finally:
        pages.shutdown()
        pages.server_close()

    missing = registered_routes() - call.answered
    assert not missing, f"served routes this test never saw succeed: {sorted(missing)}"

"""Collections (spec §2.8) through stream-python's ``client.collections`` and raw HTTP, on every backend."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from stream import exceptions as exc

from .test_errors_and_auth import assert_error, raw
from .test_users import user_token

pytestmark = pytest.mark.e2e


def name() -> str:
    return f"items_{uuid.uuid4().hex[:8]}"


def test_add_get_update_delete(client):
    coll, iid = name(), str(uuid.uuid1())
    entry = client.collections.add(coll, {"data": 1, "s": "☃"}, id=iid, user_id="tom")
    assert set(entry) == {"id", "collection", "foreign_id", "data", "created_at", "updated_at", "user_id", "duration"}
    assert entry["user_id"] == "tom"
    assert "user_id" not in client.collections.add(coll, {"n": 1})  # only when the item has an owner
    assert (entry["id"], entry["collection"], entry["foreign_id"]) == (iid, coll, f"{coll}:{iid}")
    assert entry["data"] == {"data": 1, "s": "☃"} and entry["created_at"].endswith("Z")
    got = client.collections.get(coll, iid)
    got.pop("duration"), entry.pop("duration")
    assert got == entry  # the create response minus duration, as enrichment will embed it
    updated = client.collections.update(coll, iid, data={"changed": True})
    assert updated["data"] == {"changed": True} and updated["created_at"] == entry["created_at"]
    assert client.collections.get(coll, iid)["data"] == {"changed": True}
    client.collections.delete(coll, iid)
    with pytest.raises(exc.DoesNotExistException):
        client.collections.get(coll, iid)


def test_server_generated_id_and_duplicates(client, dev_server):
    coll = name()
    a = client.collections.add(coll, {"n": 1})
    b = client.collections.add(coll, {"n": 2})
    assert a["id"] and b["id"] and a["id"] != b["id"] and a["foreign_id"] == f"{coll}:{a['id']}"
    with pytest.raises(exc.StreamApiException) as err:
        client.collections.add(coll, {"n": 3}, id=a["id"])
    assert err.value.status_code == 409
    assert client.collections.get(coll, a["id"])["data"] == {"n": 1}
    assert_error(raw(dev_server, "POST", f"collections/{coll}/", body='{"id": 5, "data": {}}'), 400, 4)


def test_missing_is_404(client):
    coll = name()
    for call in (lambda: client.collections.get(coll, "nope"),
                 lambda: client.collections.update(coll, "nope", data={"a": 1}),
                 lambda: client.collections.delete(coll, "nope")):
        with pytest.raises(exc.DoesNotExistException) as err:
            call()
        assert err.value.status_code == 404


def test_upsert_select_delete_many(client):
    coll, other = name(), name()
    client.collections.add(coll, {"old": True}, id="1")
    created = client.collections.get(coll, "1")["created_at"]
    resp = client.collections.upsert(coll, [{"id": "1", "name": "Juniper", "hobbies": ["Playing"]},
                                            {"id": "2", "name": "Ruby"}])
    assert resp["data"] == {coll: [{"id": "1", "name": "Juniper", "hobbies": ["Playing"]},
                                   {"id": "2", "name": "Ruby"}]}
    client.collections.upsert(other, {"id": "1", "x": 1})
    one = client.collections.get(coll, "1")
    assert one["data"] == {"name": "Juniper", "hobbies": ["Playing"]} and one["created_at"] == created
    sel = client.collections.select(coll, ["2", "1", "missing", "2"])
    items = sel["response"]["data"]
    assert [(i["collection"], i["id"]) for i in items] == [(coll, "2"), (coll, "1")]
    assert items[1] == {k: v for k, v in one.items() if k != "duration"}
    client.collections.delete_many(coll, ["1", "2", "missing"])  # repeated ids=1&ids=2
    assert client.collections.select(coll, ["1", "2"])["response"]["data"] == []
    assert client.collections.get(other, "1")["data"] == {"x": 1}


def test_stored_bytes_are_the_create_response(dev_server):
    coll = name()
    created = raw(dev_server, "POST", f"collections/{coll}/", body='{"id": "a", "data": {"ü": [1, {"z": 0, "y": 1}]}}')
    got = raw(dev_server, "GET", f"collections/{coll}/a/")
    selected = raw(dev_server, "GET", "collections/", foreign_ids=f"{coll}:a")
    strip = lambda text: re.sub(r',"duration":"[^"]*"}$', "}", text)  # noqa: E731
    assert created.status_code == 200 and strip(created.text) == strip(got.text)
    assert selected.text.startswith('{"response":{"data":[' + strip(got.text) + "]}")


def test_bad_input(dev_server):
    coll = name()
    for body in ('{"data": "x"}', '{"id": "a,b"}', '{"data": {"n": Infinity}}'):
        assert_error(raw(dev_server, "POST", f"collections/{coll}/", body=body), 400, 4)
    assert_error(raw(dev_server, "POST", "collections/bad$name/", body='{"data": {}}'), 400, 4)
    raw(dev_server, "POST", f"collections/{coll}/", body='{"id": "x", "data": {}}')
    assert_error(raw(dev_server, "PUT", f"collections/{coll}/x/", body='{"data": 1}'), 400, 4)
    for body in ('{"data": []}', '{"data": {"c": [{"name": "no id"}]}}', '{"data": {"c": "x"}}', "[]"):
        assert_error(raw(dev_server, "POST", "collections/", body=body), 400, 4)
    too_many = {"data": {coll: [{"id": str(i)} for i in range(1001)]}}
    assert_error(raw(dev_server, "POST", "collections/", body=json.dumps(too_many)), 400, 4)
    assert_error(raw(dev_server, "GET", "collections/", foreign_ids="noseparator"), 400, 4)
    assert_error(raw(dev_server, "GET", "collections/"), 400, 4)
    assert_error(raw(dev_server, "DELETE", "collections/", ids="1"), 400, 4)


def test_user_tokens_change_only_their_items(dev_server):
    coll, me = name(), uuid.uuid4().hex
    tok = user_token(me)
    mine = raw(dev_server, "POST", f"collections/{coll}/", token=tok, body='{"id": "mine", "data": {"a": 1}}')
    assert mine.status_code == 200
    raw(dev_server, "POST", f"collections/{coll}/", body='{"id": "theirs", "data": {}, "user_id": "other"}')
    raw(dev_server, "POST", f"collections/{coll}/", body='{"id": "nobody", "data": {}}')
    assert_error(raw(dev_server, "POST", f"collections/{coll}/", token=tok,
                     body='{"id": "x", "data": {}, "user_id": "other"}'), 403, 17)
    assert raw(dev_server, "GET", f"collections/{coll}/theirs/", token=tok).status_code == 200
    for iid in ("theirs", "nobody"):
        assert_error(raw(dev_server, "PUT", f"collections/{coll}/{iid}/", token=tok, body='{"data": {}}'), 403, 17)
        assert_error(raw(dev_server, "DELETE", f"collections/{coll}/{iid}/", token=tok), 403, 17)
    assert_error(raw(dev_server, "DELETE", "collections/", token=tok, collection_name=coll, ids="mine,theirs"), 403, 17)
    assert_error(raw(dev_server, "POST", "collections/", token=tok,
                     body=json.dumps({"data": {coll: [{"id": "theirs", "v": 1}]}})), 403, 17)
    assert raw(dev_server, "PUT", f"collections/{coll}/mine/", token=tok, body='{"data": {"b": 2}}').status_code == 200
    assert raw(dev_server, "DELETE", "collections/", token=tok, collection_name=coll, ids="mine").status_code == 200
    assert raw(dev_server, "GET", "collections/", foreign_ids=f"{coll}:mine,{coll}:theirs").json()[
        "response"]["data"][0]["id"] == "theirs"

"""docs/openapi.yaml is a valid OpenAPI 3.1 document, lists every route the HTTP functions serve,
and agrees with the code on the error envelope and the limits it enforces."""

from __future__ import annotations

import copy
import importlib.util
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from feedline import errors
from feedline.activities import inputs
from feedline.activities import model as activity
from feedline.feeds import routes as feed_routes
from feedline.follows import service as follows
from feedline.models import feeds

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "openapi.yaml"
DOC_URI = "urn:feedline:openapi"
HTTP_FUNCTIONS = ("read", "write")
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
PLANNED = "x-feedline-planned"


def template(path: str) -> str:
    """A route path with every parameter as ``{}``: ``<slug>`` (code) and ``{slug}`` (OpenAPI) alike."""
    return re.sub(r"<[^>/]+>|\{[^}/]+\}", "{}", path)


@cache
def registered_routes() -> frozenset[tuple[str, str]]:
    """``(METHOD, template)`` of every route the HTTP functions register.

    The one place that knows how routes are registered: each ``functions/<name>/app.py`` builds an
    ``Api`` (its ``lambda_handler``) from the concepts' route lists; ``Api.paths`` lists
    ``(method, path)`` with ``<name>`` placeholders.
    """
    found = set()
    for name in HTTP_FUNCTIONS:
        path = ROOT / "functions" / name / "app.py"
        spec = importlib.util.spec_from_file_location(f"feedline_openapi_check_{name}", path)
        assert spec is not None and spec.loader is not None, path
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for method, route in module.lambda_handler.paths:
            found.add((method.upper(), template(route)))
    return frozenset(found)


@cache
def document() -> dict:
    return yaml.safe_load(DOC.read_text(encoding="utf-8"))


def operations(doc: dict) -> Iterator[tuple[str, str, dict]]:
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method in item:
                yield method.upper(), path, item[method]


def documented(doc: dict) -> dict[tuple[str, str], dict]:
    return {(m, template(p)): op for m, p, op in operations(doc)}


@cache
def _registry() -> Registry:
    return Registry().with_resource(DOC_URI, Resource.from_contents(document(), default_specification=DRAFT202012))


def schema_validator(pointer: str) -> Draft202012Validator:
    """A JSON Schema validator for the schema at JSON pointer ``pointer`` in the document (its
    ``$ref``s resolved against the document)."""
    return Draft202012Validator({"$ref": f"{DOC_URI}#{quote(pointer, safe='/~')}"}, registry=_registry())


# ---- the document itself --------------------------------------------------------------------

@pytest.mark.slow  # openapi-spec-validator takes ~5 s over this document
def test_document_is_valid_openapi_3_1():
    doc = document()
    assert doc["openapi"].startswith("3.1.")
    validate(doc)


@pytest.mark.slow
def test_validator_rejects_a_broken_copy():
    """The check above can fail: a path parameter the document no longer declares is caught."""
    doc = copy.deepcopy(document())
    del doc["paths"]["/api/v1.0/feed/{slug}/{user_id}/"]["parameters"]
    with pytest.raises(OpenAPIValidationError, match="slug"):
        validate(doc)


def test_every_operation_needs_the_three_credentials():
    doc = document()
    assert doc["security"] == [{"api_key": [], "jwt": [], "stream_auth_type": []}]
    schemes = doc["components"]["securitySchemes"]
    assert (schemes["api_key"]["in"], schemes["api_key"]["name"]) == ("query", "api_key")
    assert (schemes["jwt"]["in"], schemes["jwt"]["name"]) == ("header", "Authorization")
    assert (schemes["stream_auth_type"]["in"], schemes["stream_auth_type"]["name"]) == ("header", "Stream-Auth-Type")
    assert all("security" not in op for _, _, op in operations(doc)), "no operation may opt out"


# ---- routes: code <-> document --------------------------------------------------------------

def test_route_discovery_finds_the_functions_routes():
    routes = registered_routes()
    # a few routes every version of the handlers serves: discovery that finds nothing must fail
    assert {("GET", "/api/v1.0/feed/{}/{}/"), ("POST", "/api/v1.0/feed/{}/{}/"),
            ("POST", "/api/v1.0/activity/"), ("GET", "/api/v1.0/stats/follow/")} <= routes


def test_every_registered_route_is_documented():
    missing = registered_routes() - set(documented(document()))
    assert not missing, f"routes served but not in docs/openapi.yaml: {sorted(missing)}"


def test_served_routes_are_not_marked_planned():
    ops = documented(document())
    stale = sorted(r for r in registered_routes() if ops.get(r, {}).get(PLANNED))
    assert not stale, f"served, yet marked {PLANNED}: {stale} (drop the mark)"


def test_every_documented_route_is_served_or_planned():
    served = registered_routes()
    unserved = sorted(r for r, op in documented(document()).items() if r not in served and op.get(PLANNED) is not True)
    assert not unserved, f"in docs/openapi.yaml but not served and not marked {PLANNED}: {unserved}"


def test_planned_operations_name_their_issue():
    for method, path, op in operations(document()):
        if op.get(PLANNED):
            assert isinstance(op.get("x-feedline-issue"), int), f"{method} {path}: which issue?"


def test_operations_cite_docs_api_md():
    for method, path, op in operations(document()):
        assert re.search(r"docs/api\.md §\d+(\.\d+)?", op.get("description", "")), f"{method} {path}"


# ---- the error envelope ---------------------------------------------------------------------

def _error_classes() -> list[type[errors.StreamError]]:
    out, todo = [], [errors.StreamError]
    while todo:
        cls = todo.pop()
        out.append(cls)
        todo.extend(cls.__subclasses__())
    return out


@pytest.mark.parametrize("cls", _error_classes(), ids=lambda c: c.__name__)
def test_error_payloads_match_the_envelope(cls):
    """What ``errors.py`` sends validates against the shared Error schema and the response
    component documented for its status (400, 401, 403, 404, 503)."""
    for fields in (None, {"actor": ["This field is required."]}):
        body = cls("detail", fields).payload()
        body["duration"] = "0.12ms"
        schema_validator("/components/schemas/Error").validate(body)
        by_status = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "DoesNotExist",
                     503: "Unavailable"}
        if cls.status_code in by_status:
            pointer = f"/components/responses/{by_status[cls.status_code]}/content/application~1json/schema"
            schema_validator(pointer).validate(body)


def test_error_schema_refuses_a_body_without_exception():
    """stream-python treats an error body without ``exception`` as success: the schema must not."""
    errs = list(schema_validator("/components/schemas/Error").iter_errors(
        {"message": "Not Found"}))
    assert errs


# ---- limits: the document states what the code enforces ---------------------------------------

def _body_schema(path: str, method: str) -> dict:
    return document()["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]


def test_limits_match_the_code():
    comp = document()["components"]
    params, schemas = comp["parameters"], comp["schemas"]
    assert params["Limit"]["x-feedline-clamped-to"] == feed_routes.MAX_LIMIT
    assert params["Limit"]["schema"]["default"] == feed_routes.DEFAULT_LIMIT
    assert "maximum" not in params["Limit"]["schema"], "a clamped limit is not refused"
    assert params["Offset"]["schema"]["maximum"] == feed_routes.MAX_OFFSET
    assert params["Ids"]["schema"]["maxItems"] == inputs.MAX_GET_IDS
    assert params["ForeignIds"]["schema"]["maxItems"] == inputs.MAX_GET_IDS
    assert schemas["ActivityBatchInput"]["properties"]["activities"]["maxItems"] == inputs.MAX_BATCH_ACTIVITIES
    copy_limit = schemas["FollowRequest"]["properties"]["activity_copy_limit"]
    assert (copy_limit["default"], copy_limit["maximum"]) == (follows.DEFAULT_COPY_LIMIT, follows.MAX_COPY_LIMIT)
    follow_many_q = document()["paths"]["/api/v1.0/follow_many/"]["post"]["parameters"][0]["schema"]
    assert follow_many_q["maximum"] == follows.MAX_COPY_LIMIT
    assert _body_schema("/api/v1.0/follow_many/", "post")["maxItems"] == follows.MAX_FOLLOW_BATCH
    assert _body_schema("/api/v1.0/unfollow_many/", "post")["maxItems"] == follows.MAX_FOLLOW_BATCH
    assert _body_schema("/api/v1.0/feed/add_to_many/", "post")["properties"]["feeds"]["maxItems"] == \
        inputs.MAX_ADD_TO_MANY
    assert _body_schema("/api/v1.0/activities/", "post")["properties"]["activities"]["maxItems"] == \
        inputs.MAX_UPDATE_BATCH
    assert _body_schema("/api/v1.0/activity/", "post")["oneOf"][0]["properties"]["changes"]["maxItems"] == \
        inputs.MAX_UPDATE_BATCH
    act = schemas["ActivityInput"]
    assert act["properties"]["to"]["maxItems"] == activity.MAX_TO
    assert act["properties"]["verb"]["oneOf"][0]["maxLength"] == activity.MAX_VERB_BYTES
    assert act["properties"]["foreign_id"]["oneOf"][0]["maxLength"] == activity.MAX_FOREIGN_ID
    assert set(act["propertyNames"]["not"]["enum"]) == set(activity.RESERVED)
    assert str(activity.MAX_ACTIVITY_BYTES // 1024) + " KB" in act["description"]
    assert schemas["Slug"]["maxLength"] == schemas["FeedUserId"]["maxLength"] == feeds.MAX_PART


@pytest.mark.parametrize("value, ok", [
    ("user", True), ("user-2_b", True), ("a" * 255, True),
    ("", False), ("user:1", False), ("us er", False), ("user\n", False), ("a" * 256, False),
])
def test_slug_schema_agrees_with_the_code(value, ok):
    """The document's slug rule accepts what the server accepts (ASCII; the server also takes
    non-ASCII letters) and refuses a trailing newline, which issue 15 makes the server refuse."""
    assert schema_validator("/components/schemas/Slug").is_valid(value) is ok
    if value != "user\n":
        assert feeds.valid_part(value) is ok


@pytest.mark.parametrize("value", ["2017-07-01T20:30:45.123456", "2017-07-01 20:30:45", "2017-07-01",
                                   "2017-07-01T20:30:45Z", "2017-07-01T20:30:45.123456789+05:30"])
def test_documented_time_forms_are_accepted_by_the_code(value):
    from feedline.models import ids

    assert schema_validator("/components/schemas/TimeInput").is_valid(value)
    ids.parse_time(value)

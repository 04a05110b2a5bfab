"""Files and images (spec §2.11) through `feedline dev`, per backend: multipart uploads as stream-js
and browsers send them (``requests``: stream-python has no files/images client), the returned URL
fetched without any header (as an ``<img>`` does), processing, deletes, and the refusals."""

from __future__ import annotations

import io
import os
from urllib.parse import parse_qsl, urlencode, urlsplit

import jwt
import pytest
import requests
from PIL import Image

from tests.conftest import API_KEY, API_SECRET

from .test_errors_and_auth import assert_error

pytestmark = pytest.mark.e2e

SERVER_TOKEN = jwt.encode({"resource": "*", "action": "*", "feed_id": "*"}, API_SECRET, algorithm="HS256")


def user_token(user_id: str) -> str:
    return jwt.encode({"user_id": user_id}, API_SECRET, algorithm="HS256")


def call(server, method, path, token=SERVER_TOKEN, **kw):
    params = {"api_key": API_KEY, **kw.pop("params", {})}
    return requests.request(method, f"{server.base_url}/api/v1.0/{path}", params=params,
                            headers={"Authorization": token, "stream-auth-type": "jwt", **kw.pop("headers", {})},
                            timeout=20, **kw)


def upload(server, kind, data, name="photo.png", ctype="image/png", token=SERVER_TOKEN):
    return call(server, "POST", f"{kind}/", token=token, files={"file": (name, data, ctype)})


def image(w=64, h=32, fmt="PNG", color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (w, h), color).save(out, fmt)
    return out.getvalue()


def test_upload_an_image_and_fetch_it_like_an_img_tag(dev_server):
    data = image()
    resp = upload(dev_server, "images", data)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert set(body) == {"file", "duration"}
    url = body["file"]
    assert url.startswith(f"{dev_server.base_url}/api/v1.0/images/content/") and "sig=" in url
    got = requests.get(url, timeout=10)  # no token, no api key
    assert got.status_code == 200 and got.content == data
    assert got.headers["content-type"] == "image/png" and got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"].startswith("inline")


def test_upload_a_file_any_type_byte_exact(dev_server):
    data = os.urandom(700_000) + b"\r\n--boundary-lookalike\r\n"
    resp = upload(dev_server, "files", data, name="../report 2024.bin", ctype="application/x-thing")
    assert resp.status_code == 200, resp.text
    url = resp.json()["file"]
    assert url.split("?")[0].endswith("/report_2024.bin")
    got = requests.get(url, timeout=10)
    assert got.status_code == 200 and got.content == data
    assert got.headers["content-type"] == "application/x-thing"
    # not a type a browser may show from our origin: a download, in a sandbox
    assert got.headers["content-disposition"].startswith("attachment")
    assert "sandbox" in got.headers["content-security-policy"]


def test_process_thumbnail_like_stream_js(dev_server):
    url = upload(dev_server, "images", image(200, 100)).json()["file"]
    # stream-js images.thumbnail(url, 50, 50) -> GET images/?url=&w=50&h=50&crop=center&resize=clip
    resp = call(dev_server, "GET", "images/", params={"url": url, "w": 50, "h": 50, "crop": "center", "resize": "clip"})
    assert resp.status_code == 200, resp.text
    processed = resp.json()["file"]
    got = requests.get(processed, timeout=10)
    assert got.status_code == 200 and Image.open(io.BytesIO(got.content)).size == (50, 25)
    crop = call(dev_server, "GET", "images/", params={"url": url, "w": 40, "h": 40, "resize": "crop",
                                                      "crop": "top,left"}).json()["file"]
    assert Image.open(io.BytesIO(requests.get(crop, timeout=10).content)).size == (40, 40)
    # processing the processed URL works from its original
    again = call(dev_server, "GET", "images/", params={"url": processed, "w": 10}).json()["file"]
    assert Image.open(io.BytesIO(requests.get(again, timeout=10).content)).size == (10, 5)


def test_forged_or_altered_urls_are_refused(dev_server):
    url = upload(dev_server, "images", image()).json()["file"]
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    base = f"{parts.scheme}://{parts.netloc}{parts.path}"
    forged = requests.get(f"{base}?{urlencode({**query, 'sig': '0' * 32})}", timeout=10)
    assert_error(forged, 403, 17)
    unsigned = requests.get(base, timeout=10)
    assert_error(unsigned, 403, 17)
    resized = requests.get(f"{base}?{urlencode({'w': 10, 'h': '', 'crop': 'center', 'resize': 'clip', **{'sig': query['sig']}})}",
                           timeout=10)
    assert_error(resized, 403, 17)  # options not signed
    renamed = requests.get(url.replace("/photo.png?", "/other.png?"), timeout=10)
    assert_error(renamed, 403, 17)
    other_id = requests.get(url.replace(parts.path.split("/")[-2], "f" * 32), timeout=10)
    assert_error(other_id, 403, 17)
    bad_id = requests.get(url.replace(parts.path.split("/")[-2], "nothex"), timeout=10)
    assert_error(bad_id, 404, 16)
    as_file = requests.get(url.replace("/images/content/", "/files/content/"), timeout=10)
    assert_error(as_file, 403, 17)


def test_delete_then_gone(dev_server):
    url = upload(dev_server, "files", b"hello", name="a.txt", ctype="text/plain").json()["file"]
    assert requests.get(url, timeout=10).content == b"hello"
    assert_error(call(dev_server, "DELETE", "images/", params={"url": url}), 404, 16)  # a file, not an image
    resp = call(dev_server, "DELETE", "files/", params={"url": url})
    assert resp.status_code == 200 and set(resp.json()) == {"duration"}
    assert_error(requests.get(url, timeout=10), 404, 16)
    assert_error(call(dev_server, "DELETE", "files/", params={"url": url}), 404, 16)


def test_delete_and_process_refuse_unknown_urls(dev_server):
    for url in ("", "https://example.org/a.png", f"{dev_server.base_url}/api/v1.0/files/content/{'a' * 32}/x?sig=1"):
        assert_error(call(dev_server, "DELETE", "files/", params={"url": url}), 404, 16)
        assert_error(call(dev_server, "GET", "images/", params={"url": url, "w": 5}), 404, 16)


def test_user_tokens_upload_and_delete_only_their_own(dev_server):
    alice, bob = user_token("alice"), user_token("bob")
    resp = upload(dev_server, "images", image(), token=alice)
    assert resp.status_code == 200, resp.text
    url = resp.json()["file"]
    assert_error(call(dev_server, "DELETE", "images/", token=bob, params={"url": url}), 403, 17)
    assert call(dev_server, "GET", "images/", token=bob, params={"url": url, "w": 5}).status_code == 200
    assert call(dev_server, "DELETE", "images/", token=alice, params={"url": url}).status_code == 200
    # a server token may delete any upload
    other = upload(dev_server, "files", b"x", token=bob).json()["file"]
    assert call(dev_server, "DELETE", "files/", params={"url": other}).status_code == 200


def test_images_must_be_images(dev_server):
    for data in (b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"GIF89a-not-really", image()[:60], image(fmt="BMP")):
        assert_error(upload(dev_server, "images", data), 400, 4)
    # the served type is what the bytes are, not what the client said
    url = upload(dev_server, "images", image(fmt="JPEG"), name="x.png", ctype="image/png").json()["file"]
    assert requests.get(url, timeout=10).headers["content-type"] == "image/jpeg"


def test_bad_forms_are_400(dev_server):
    headers = {"Content-Type": "multipart/form-data; boundary=abc"}
    cases = [
        call(dev_server, "POST", "files/", data=b"--abc\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nxx",
             headers=headers),                                                       # truncated
        call(dev_server, "POST", "files/", json={"file": "x"}),                      # not a form
        call(dev_server, "POST", "files/", files={"other": ("a", b"x")}),            # no file field
        call(dev_server, "POST", "files/", files=[("file", ("a", b"x")), ("file", ("b", b"y"))]),  # two
        call(dev_server, "POST", "files/", files={"file": ("a", b"")}),              # empty
        call(dev_server, "POST", "files/"),                                          # no body
        call(dev_server, "GET", "images/", params={"url": "x", "w": "0"}),           # bad size
        call(dev_server, "GET", "images/", params={"url": "x", "w": "5", "resize": "zoom"}),
    ]
    for resp in cases:
        assert_error(resp, 400, 4)


def test_oversized_uploads_are_refused(dev_server):
    from feedline.media.model import MAX_FILE_BYTES

    resp = upload(dev_server, "files", b"\0" * (MAX_FILE_BYTES + 1), name="big.bin", ctype="application/octet-stream")
    assert_error(resp, 400, 4)
    just = upload(dev_server, "files", os.urandom(MAX_FILE_BYTES), name="max.bin", ctype="application/octet-stream")
    assert just.status_code == 200, just.text[:300]
    got = requests.get(just.json()["file"], timeout=20)
    assert got.status_code == 200 and len(got.content) == MAX_FILE_BYTES


def test_uploads_need_a_valid_token(dev_server):
    bad = jwt.encode({"user_id": "alice"}, "not the secret", algorithm="HS256")
    assert upload(dev_server, "files", b"x", token=bad).status_code in (401, 403)
    scoped = jwt.encode({"resource": "feed", "action": "*", "feed_id": "*"}, API_SECRET, algorithm="HS256")
    assert_error(upload(dev_server, "files", b"x", token=scoped), 403, 17)


@pytest.fixture(scope="module")
def s3_server(moto, tmp_path_factory):
    """`feedline dev` (SQLite) keeping files in an S3 bucket (moto's server)."""
    import uuid

    from feedline.storage.s3.files import make_s3_client
    from tests.conftest import DevServer
    from tests.sqs_support import AWS_ENV

    bucket = f"files-{uuid.uuid4().hex[:10]}"
    make_s3_client(moto.endpoint).create_bucket(Bucket=bucket)
    server = DevServer(tmp_path_factory.mktemp("dev-s3"), {**AWS_ENV, "FEEDLINE_FILES_BUCKET": bucket,
                                                           "FEEDLINE_S3_ENDPOINT": moto.endpoint})
    server.bucket = bucket
    yield server
    server.stop()


def test_files_in_s3_through_the_api(s3_server, moto):
    from feedline.storage.s3.files import make_s3_client

    data = image(120, 60)
    url = upload(s3_server, "images", data, token=user_token("carol")).json()["file"]
    s3 = make_s3_client(moto.endpoint)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=s3_server.bucket).get("Contents", [])]
    assert len(keys) == 1 and keys[0] == "files/" + urlsplit(url).path.split("/")[-2]
    assert requests.get(url, timeout=10).content == data
    small = call(s3_server, "GET", "images/", params={"url": url, "w": 30}).json()["file"]
    assert Image.open(io.BytesIO(requests.get(small, timeout=10).content)).size == (30, 15)
    assert_error(call(s3_server, "DELETE", "images/", token=user_token("dave"), params={"url": url}), 403, 17)
    assert call(s3_server, "DELETE", "images/", token=user_token("carol"), params={"url": url}).status_code == 200
    assert s3.list_objects_v2(Bucket=s3_server.bucket).get("KeyCount") == 0
    assert_error(requests.get(url, timeout=10), 404, 16)

"""Files and images, the pure parts: the multipart parser, names, processing options, signed URLs,
and the Pillow steps (checking an upload, resizing per Stream's modes)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from feedline.api import multipart
from feedline.errors import InputException
from feedline.media import images
from feedline.media.model import Options, Signer, clean_content_type, clean_name, options, parse_url

CT = "multipart/form-data; boundary=XyZ"


def form(*parts: bytes, boundary: bytes = b"XyZ") -> bytes:
    return b"".join(b"--" + boundary + b"\r\n" + p + b"\r\n" for p in parts) + b"--" + boundary + b"--\r\n"


def test_multipart_parses_fields_and_files():
    body = form(b'Content-Disposition: form-data; name="note"\r\n\r\nhi',
                b'Content-Disposition: form-data; name="file"; filename="a \\"b\\".png"\r\n'
                b"Content-Type: image/png\r\n\r\n\x00\r\n--Xy\xff")
    note, file = multipart.parse(body, CT)
    assert (note.name, note.filename, note.data) == ("note", None, b"hi")
    assert (file.name, file.filename, file.content_type, file.data) == ("file", 'a "b".png', "image/png",
                                                                        b"\x00\r\n--Xy\xff")
    ext = multipart.parse(form(b"Content-Disposition: form-data; name=file; filename=x.txt; "
                               b"filename*=UTF-8''na%C3%AFve.txt\r\n\r\nabc"), 'multipart/form-data; boundary="XyZ"')
    assert ext[0].filename == "na\u00efve.txt"


@pytest.mark.parametrize("body,ctype", [
    (form(b'Content-Disposition: form-data; name="file"\r\n\r\nabc'), "application/json"),
    (form(b'Content-Disposition: form-data; name="file"\r\n\r\nabc'), "multipart/form-data"),
    (form(b'Content-Disposition: form-data; name="file"\r\n\r\nabc'), "multipart/form-data; boundary=Other"),
    (form(b'Content-Disposition: form-data; name="file"\r\n\r\nabc')[:-9], CT),  # truncated
    (form(b"Content-Type: text/plain\r\n\r\nabc"), CT),  # no disposition
    (form(b'Content-Disposition: attachment; name="file"\r\n\r\nabc'), CT),
    (form(b'Content-Disposition: form-data; name="file"\r\nno colon\r\n\r\nabc'), CT),
    (form(b'Content-Disposition: form-data; name="file"'), CT),  # headers never end
    (b"", CT), (b"garbage", CT),
])
def test_multipart_refuses_malformed_forms(body, ctype):
    with pytest.raises(InputException) as err:
        multipart.parse(body, ctype)
    assert err.value.status_code == 400


def test_multipart_caps_parts():
    body = form(*[b'Content-Disposition: form-data; name="f"\r\n\r\nx'] * (multipart.MAX_PARTS + 1))
    with pytest.raises(InputException, match="parts"):
        multipart.parse(body, CT)


@pytest.mark.parametrize("given,expected", [
    ("photo.png", "photo.png"), ("C:\\Users\\me\\cat pic.JPG", "cat_pic.JPG"), ("../../etc/passwd", "passwd"),
    (".hidden", "hidden"), ("", "file"), (None, "file"), ("\u00e9t\u00e9 \u2603.gif", "t_.gif"),
    ("a" * 300 + ".jpeg", "a" * 95 + ".jpeg"), ("<script>.html", "script_.html"),
])
def test_clean_name(given, expected):
    assert clean_name(given, "file") == expected


def test_clean_content_type():
    assert clean_content_type("Text/Plain; charset=utf-8") == "text/plain"
    assert clean_content_type("nonsense") == clean_content_type(None) == "application/octet-stream"
    assert clean_content_type("text/html\r\nX: y") == "application/octet-stream"


def test_options():
    assert options({"w": "100"}, True) == Options(100, None, "center", "clip")
    assert options({"w": "5", "h": "6", "crop": "top,left", "resize": "crop"}, True) == Options(5, 6, "top,left", "crop")
    for bad in ({"w": "0"}, {"w": "-1"}, {"w": "1e3"}, {"w": "99999"}, {"w": "1", "crop": "middle"},
                {"w": "1", "crop": "top,left,right"}, {"w": "1", "resize": "zoom"}, {}):
        with pytest.raises(InputException):
            options(bad, True)
    assert options({}, False).empty


def test_signed_urls_round_trip_and_resist_tampering():
    signer = Signer("secret")
    fid = "0123456789abcdef0123456789abcdef"
    url = signer.url("https://api.example.org", "images", fid, "a b.png", Options(10, None, "top", "crop"))
    assert url.startswith(f"https://api.example.org/api/v1.0/images/content/{fid}/a%20b.png?w=10&h=&crop=top&resize=crop&sig=")
    ref = parse_url(url)
    assert ref is not None and (ref.kind, ref.id, ref.name, ref.opts) == ("images", fid, "a b.png", Options(10, None, "top", "crop"))
    assert signer.valid(ref.kind, ref.id, ref.name, ref.opts, ref.sig)
    assert not signer.valid(ref.kind, ref.id, ref.name, Options(11, None, "top", "crop"), ref.sig)
    assert not signer.valid("files", ref.id, ref.name, ref.opts, ref.sig)
    assert not Signer("other secret").valid(ref.kind, ref.id, ref.name, ref.opts, ref.sig)
    # a prefix before /api/v1.0 (a stage, a CDN path) is fine; anything else is not ours
    assert parse_url(url.replace("https://api.example.org", "https://cdn.example.org/prefix")) is not None
    for other in ("https://example.org/a.png", f"https://x/api/v1.0/images/content/{fid[:-1]}/a.png", "", None, 5):
        assert parse_url(other) is None


def png(w: int, h: int, mode: str = "RGB", fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (w, h), (10, 200, 30) if mode == "RGB" else None).save(out, fmt)
    return out.getvalue()


def test_images_inspect():
    assert images.inspect(png(4, 3)) == "image/png"
    assert images.inspect(png(4, 3, fmt="JPEG")) == "image/jpeg"
    assert images.inspect(png(4, 3, fmt="GIF")) == "image/gif"
    for bad in (b"not an image", png(4, 3)[:40], png(2, 2, fmt="BMP")):
        with pytest.raises(InputException):
            images.inspect(bad)


@pytest.mark.parametrize("opts,size", [
    (Options(100, 100, "center", "clip"), (100, 50)),   # fit inside, aspect kept
    (Options(400, 400, "center", "clip"), (200, 100)),  # never enlarged
    (Options(50, None, "center", "clip"), (50, 25)),
    (Options(None, 20, "center", "clip"), (40, 20)),
    (Options(30, 30, "center", "scale"), (30, 30)),
    (Options(30, 30, "top", "crop"), (30, 30)),
    (Options(60, 60, "center", "fill"), (60, 60)),
])
def test_images_process_sizes(opts, size):
    data, ctype = images.process(png(200, 100), opts)
    assert ctype == "image/png" and Image.open(io.BytesIO(data)).size == size


def test_crop_keeps_the_side_asked_for():
    img = Image.new("RGB", (200, 100), (255, 0, 0))
    img.paste((0, 0, 255), (100, 0, 200, 100))  # left half red, right half blue
    out = io.BytesIO()
    img.save(out, "PNG")
    left, _ = images.process(out.getvalue(), Options(50, 50, "left", "crop"))
    right, _ = images.process(out.getvalue(), Options(50, 50, "right", "crop"))
    assert Image.open(io.BytesIO(left)).convert("RGB").getpixel((25, 25)) == (255, 0, 0)
    assert Image.open(io.BytesIO(right)).convert("RGB").getpixel((25, 25)) == (0, 0, 255)
    padded, _ = images.process(out.getvalue(), Options(100, 100, "center", "fill"))
    assert Image.open(io.BytesIO(padded)).convert("RGB").getpixel((50, 5)) == (255, 255, 255)


def test_url_origin_setting_beats_the_request():
    from types import SimpleNamespace

    from feedline.media.routes import origin

    def req(base: str, headers: dict) -> SimpleNamespace:
        return SimpleNamespace(rt=SimpleNamespace(settings=SimpleNamespace(media_base_url=base)), headers=headers,
                               event={"requestContext": {"domainName": "abc.execute-api.example.com"}})

    assert origin(req("https://cdn.example.org", {"host": "evil.example"})) == "https://cdn.example.org"
    assert origin(req("", {"host": "localhost:8000"})) == "http://localhost:8000"
    assert origin(req("", {"host": "api.example.org", "x-forwarded-proto": "https"})) == "https://api.example.org"
    assert origin(req("", {})) == "http://abc.execute-api.example.com"


@pytest.mark.parametrize("opts,size", [
    (Options(100, 100, "center", "clip"), (50, 100)),
    (Options(50, None, "center", "clip"), (50, 100)),
    (Options(60, 60, "center", "crop"), (60, 60)),
    (Options(None, 40, "center", "scale"), (20, 40)),
])
def test_jpeg_with_exif_rotation_is_sized_as_seen(opts, size):
    """A phone photo stored 400x200 with orientation 6 is seen 200x400: sizes (and the reduced
    JPEG decode, which happens before the turn) follow what is seen."""
    img = Image.new("RGB", (400, 200), (255, 0, 0))
    img.paste((0, 0, 255), (0, 0, 200, 200))  # stored: left half blue
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif, quality=95)
    data, ctype = images.process(out.getvalue(), opts)
    got = Image.open(io.BytesIO(data))
    assert ctype == "image/jpeg" and got.size == size
    if opts.resize == "clip" and opts.h == 100:
        # turned 90° clockwise, the stored left half (blue) is now the top
        r, g, b = got.convert("RGB").getpixel((25, 10))
        assert b > 200 and r < 60

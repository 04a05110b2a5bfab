"""HTTP routes of files and images (spec §2.11).

- ``POST /files/``, ``/images/``: a multipart form with a ``file`` field -> ``{"file": <URL>}``
- ``DELETE /files/?url=``, ``/images/?url=``
- ``GET /images/?url=&w=&h=&crop=&resize=`` -> ``{"file": <URL of the processed image>}``
- ``GET /files/content/<id>/<name>?sig=`` (and ``/images/content/...``): the bytes, for a browser;
  no token, the signature is the credential.

The URLs handed out are absolute: ``FEEDLINE_MEDIA_BASE_URL`` when set (a custom domain or CDN in
front of the API), else the scheme and host the request came in on.
"""

from __future__ import annotations

from feedline.api import multipart, responses
from feedline.api.request import Request
from feedline.api.routes import Routes
from feedline.media.model import INLINE_TYPES, Options, options, parse_url

read = Routes()
write = Routes()


def origin(req: Request) -> str:
    configured = req.rt.settings.media_base_url
    if configured:
        return str(configured)
    headers = req.headers
    proto = (headers.get("x-forwarded-proto") or "http").split(",")[0].strip().lower()
    host = headers.get("host") or ((req.event.get("requestContext") or {}).get("domainName") or "localhost")
    return f"{'https' if proto == 'https' else 'http'}://{host}"


def _upload(req: Request, kind: str) -> responses.Reply:
    who = req.caller(kind, "write")
    part = multipart.file_field(req)
    info = req.rt.media.upload(kind, part.filename, part.content_type, part.data,
                               uploader=(who.user_id or "") if who.is_user else "")
    return responses.obj({"file": req.rt.media.url(origin(req), info)}, req.duration())


@write.post("/api/v1.0/files/")
def upload_file(req: Request) -> responses.Reply:
    return _upload(req, "files")


@write.post("/api/v1.0/images/")
def upload_image(req: Request) -> responses.Reply:
    return _upload(req, "images")


def _delete(req: Request, kind: str) -> responses.Reply:
    who = req.caller(kind, "delete")
    info = req.rt.media.find(kind, parse_url(req.query.get("url")))
    req.rt.media.delete(info, who.user_id if who.is_user else None)
    return responses.obj(None, req.duration())


@write.delete("/api/v1.0/files/")
def delete_file(req: Request) -> responses.Reply:
    return _delete(req, "files")


@write.delete("/api/v1.0/images/")
def delete_image(req: Request) -> responses.Reply:
    return _delete(req, "images")


@read.get("/api/v1.0/images/")
def process_image(req: Request) -> responses.Reply:
    req.caller("images", "read")
    opts = options(dict(req.query), required=True)
    info = req.rt.media.find("images", parse_url(req.query.get("url")))
    return responses.obj({"file": req.rt.media.url(origin(req), info, opts)}, req.duration())


def _content(req: Request, kind: str, file_id: str, name: str) -> responses.Binary:
    query = dict(req.query)
    opts = options(query, required=False) if kind == "images" else Options()
    data, info, ctype = req.rt.media.content(kind, file_id, name, opts, query.get("sig", ""))
    inline = ctype in INLINE_TYPES
    headers = {
        "Content-Type": ctype,
        # served from the API's origin: never let an uploaded page or script run there
        "Content-Security-Policy": "sandbox; default-src 'none'; img-src 'self'; media-src 'self'",
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f'{"inline" if inline else "attachment"}; filename="{info.name}"',
        # a URL always names the same bytes (ids are never reused): let browsers and CDNs keep it
        "Cache-Control": "public, max-age=86400",
    }
    return responses.Binary(200, data, headers)


@read.get("/api/v1.0/files/content/<file_id>/<name>")
def file_content(req: Request, file_id: str, name: str) -> responses.Binary:
    return _content(req, "files", file_id, name)


@read.get("/api/v1.0/images/content/<file_id>/<name>")
def image_content(req: Request, file_id: str, name: str) -> responses.Binary:
    return _content(req, "images", file_id, name)

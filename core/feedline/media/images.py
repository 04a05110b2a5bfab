"""Images with Pillow: what an upload to ``/images/`` must be, and resizing/cropping for ``process``.

Pillow is imported on first use, not at import: the functions that never touch an image (every
feed read) do not pay for it on a cold start.

Decompression bombs: a small file can declare a huge canvas. The header's size is checked before
any pixel is decoded (``MAX_PIXELS``), and Pillow's own guard raises above twice its limit.
"""

from __future__ import annotations

import io
from typing import Any

from feedline.errors import InputException
from feedline.media.model import MAX_OUTPUT_BYTES, Options

#: formats accepted as images, and the type each is served with
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
#: width x height of an accepted image (40 MP: a large phone photo)
MAX_PIXELS = 40_000_000
_CENTER = {"left": (0.0, None), "right": (1.0, None), "top": (None, 0.0), "bottom": (None, 1.0),
           "center": (0.5, 0.5)}


def _open(data: bytes) -> Any:
    from PIL import Image

    try:
        img = Image.open(io.BytesIO(data))
    except (OSError, ValueError, Image.DecompressionBombError, SyntaxError):
        raise InputException.field("file", "is not an image (JPEG, PNG, GIF or WebP)") from None
    if img.format not in FORMATS:
        raise InputException.field("file", f"{img.format} images are not accepted: use JPEG, PNG, GIF or WebP")
    if img.width * img.height > MAX_PIXELS:
        raise InputException.field("file", f"the image is larger than {MAX_PIXELS} pixels")
    return img


def inspect(data: bytes) -> str:
    """The content type of an acceptable image (decoded once whole, so a truncated or corrupt
    file is refused at upload rather than served broken); InputException otherwise."""
    img = _open(data)
    kind = FORMATS[img.format]
    try:
        img.load()
    except Exception as exc:  # noqa: BLE001 - any decoder failure is bad input
        raise InputException.field("file", f"the image cannot be decoded ({type(exc).__name__})") from None
    return kind


def _centering(crop: str) -> tuple[float, float]:
    x, y = 0.5, 0.5
    for part in crop.split(","):
        cx, cy = _CENTER[part]
        x = x if cx is None else cx
        y = y if cy is None else cy
    return x, y


#: EXIF orientations that turn the picture a quarter: width and height swap when applied
_QUARTER_TURNS = (5, 6, 7, 8)


def _target(size: tuple[int, int], opts: Options) -> tuple[int, int]:
    """``(w, h)`` asked for; a missing side follows the aspect ratio of ``size``."""
    width, height = size
    w, h = opts.w, opts.h
    if w is not None and h is not None:
        return w, h
    if h is not None:
        return max(1, round(width * h / height)), h
    if w is not None:
        return w, max(1, round(height * w / width))
    return width, height


def process(data: bytes, opts: Options) -> tuple[bytes, str]:
    """The image resized per ``opts`` (Stream's modes), in its own format: ``(bytes, content type)``.

    clip: fit inside w x h, keeping the aspect ratio, never enlarged; crop: fill w x h exactly,
    cutting what overflows on the ``crop`` side; scale: stretch to w x h; fill: fit inside w x h
    and pad the rest (transparent where the format has alpha, else white), centred per ``crop``.
    """
    from PIL import Image, ImageOps

    img = _open(data)
    fmt = img.format
    try:
        turned = img.getexif().get(0x0112, 1) in _QUARTER_TURNS
        w, h = _target((img.height, img.width) if turned else img.size, opts)
        if fmt == "JPEG":
            # decode at 1/2, 1/4 or 1/8 scale straight from the DCT when that still leaves at least
            # w x h pixels (Pillow's draft never goes below the size asked): a 12 MP photo to a
            # thumbnail decodes 64x fewer pixels (bench/bench_images.py)
            img.draft(img.mode, (h, w) if turned else (w, h))
        img = ImageOps.exif_transpose(img)  # phone photos: width and height as the eye sees them
        if opts.resize == "clip":
            img.thumbnail((w, h), Image.Resampling.LANCZOS)
        elif opts.resize == "scale":
            img = img.resize((w, h), Image.Resampling.LANCZOS)
        elif opts.resize == "crop":
            img = ImageOps.fit(img, (w, h), Image.Resampling.LANCZOS, centering=_centering(opts.crop))
        else:
            if img.mode not in ("RGB", "RGBA"):
                img = img.convert("RGBA")
            color = (255, 255, 255, 0) if img.mode == "RGBA" else (255, 255, 255)
            img = ImageOps.pad(img, (w, h), Image.Resampling.LANCZOS, color=color, centering=_centering(opts.crop))
        out = io.BytesIO()
        if fmt == "JPEG":
            img.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
        else:
            img.save(out, fmt)
    except (OSError, ValueError, SyntaxError) as exc:
        raise InputException.field("url", f"the image cannot be processed ({type(exc).__name__})") from None
    if out.tell() > MAX_OUTPUT_BYTES:
        raise InputException.field("w", "the processed image would be too large: ask for a smaller size")
    return out.getvalue(), FORMATS[fmt]

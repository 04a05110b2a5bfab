"""Image processing (``GET /images/`` URLs, docs/api.md §17): ``media.images.process`` next to plain
Pillow doing the same job without the reduced JPEG decode.

``python bench/bench_images.py [--quick]``: per case, medians of interleaved rounds (each side
timed in every round, so machine load hits both alike), this thread's CPU time per call:

- ``feedline``: ``images.process`` (JPEG decoded at 1/2-1/8 scale by DCT when the target allows)
- ``pillow``: open, ``exif_transpose``, ``thumbnail`` / ``ImageOps.fit``, save (full decode)

Inputs: a 12 MP camera-sized JPEG (4000x3000, noisy so it does not compress away: ~4 MiB at
quality 70, our upload cap), and a 1600x1200 PNG. Each output is checked to have the same size.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from timing import interleaved_cpu, median  # noqa: E402


def _inputs() -> dict[str, bytes]:
    from PIL import Image

    out = {}
    photo = Image.effect_noise((4000, 3000), 24).convert("RGB")
    buf = io.BytesIO()
    photo.save(buf, "JPEG", quality=70)
    out["jpeg 4000x3000"] = buf.getvalue()
    buf = io.BytesIO()
    Image.effect_noise((1600, 1200), 24).convert("RGB").save(buf, "PNG")
    out["png 1600x1200"] = buf.getvalue()
    return out


def _plain(data: bytes, w: int, h: int, crop: bool) -> bytes:
    from PIL import Image, ImageOps

    img = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    fmt = Image.open(io.BytesIO(data)).format
    if crop:
        img = ImageOps.fit(img, (w, h), Image.Resampling.LANCZOS)
    else:
        img.thumbnail((w, h), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if fmt == "JPEG":
        img.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
    else:
        img.save(out, fmt)
    return out.getvalue()


def main() -> None:
    from PIL import Image

    from feedline.media import images
    from feedline.media.model import Options

    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rounds = 3 if args.quick else 15
    print(f"{'input':16} {'job':22} {'feedline ms':>12} {'pillow ms':>10} {'ratio':>6}")
    for name, data in _inputs().items():
        for job, (w, h, crop) in {"thumbnail 200x200 clip": (200, 200, False),
                                  "crop 400x400": (400, 400, True),
                                  "clip 1024x1024": (1024, 1024, False)}.items():
            opts = Options(w, h, "center", "crop" if crop else "clip")
            ours, _ = images.process(data, opts)
            theirs = _plain(data, w, h, crop)
            assert Image.open(io.BytesIO(ours)).size == Image.open(io.BytesIO(theirs)).size, (name, job)
            got = interleaved_cpu({"feedline": lambda d=data, o=opts: images.process(d, o),
                                   "pillow": lambda d=data, w=w, h=h, c=crop: _plain(d, w, h, c)}, rounds, 1)
            a, b = median(got["feedline"]) / 1000, median(got["pillow"]) / 1000
            print(f"{name:16} {job:22} {a:12.1f} {b:10.1f} {b / a:6.2f}")


if __name__ == "__main__":
    main()

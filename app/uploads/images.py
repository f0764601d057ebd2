"""Photos are decoded and encoded again before they are stored.

Only a file that Pillow decodes whole, as the type its bytes claim, is kept; what is kept is a fresh encoding of
its pixels. That refuses polyglots (an image header followed by HTML or script), drops everything that is not
pixels (EXIF with GPS positions and device details, comments, trailing bytes), and bounds the decoded size: the
pixel count is checked from the header before any pixel is decoded (decompression bombs). Pure and CPU-bound:
run it in a thread.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

from app.uploads.sniff import sniff_image

PIL_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


class NotAnImage(ValueError):
    """The bytes are not a whole image of an allowed type."""


class TooManyPixels(ValueError):
    def __init__(self, pixels: int, limit: int):
        super().__init__(f"{pixels} pixels > {limit}")
        self.pixels, self.limit = pixels, limit


def reencode(data: bytes, max_pixels: int) -> tuple[bytes, str]:
    """(the new bytes, their content type); raises NotAnImage or TooManyPixels."""
    content_type = sniff_image(data[:16])
    if content_type is None:
        raise NotAnImage("unknown type")
    fmt = PIL_FORMATS[content_type]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[fmt]) as im:
                pixels = im.width * im.height
                if pixels > max_pixels:
                    raise TooManyPixels(pixels, max_pixels)
                im.load()  # decode every pixel now: a truncated or forged body fails here
                upright = ImageOps.exif_transpose(im)  # keep the orientation the EXIF gave, then drop EXIF
                return _encode(upright, fmt), content_type
    except TooManyPixels:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as exc:
        raise NotAnImage(str(exc)) from exc


def _encode(im: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        if im.mode not in ("RGB", "L"):
            im = im.convert("RGB")
        im.save(out, "JPEG", quality=90, optimize=True)
    elif fmt == "PNG":
        im.save(out, "PNG", optimize=True)
    else:
        im.save(out, "WEBP", quality=90)
    return out.getvalue()

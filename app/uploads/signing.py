"""Short-lived signed photo URLs, for clients that cannot send a header with an image request (a mini-program's
`<image src>`).

A URL names the upload id, its storage key and an expiry, and carries an HMAC-SHA256 over the three, keyed by a
key derived from the JWT secret. Checking one needs no database session: the signature alone says the URL was
issued by us, to someone who could see the photo, until the expiry. Expiries are rounded up to a step, so the URLs
of one photo stay the same for a while and clients can cache them.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from typing import Any
from urllib.parse import quote

PATH = "/api/v1/photos/{upload_id}"
_STEP_SECONDS = 300


class PhotoSigner:
    def __init__(self, jwt_secret: str, ttl_seconds: int):
        self._key = hmac.new(jwt_secret.encode(), b"weilinli photo urls v1", hashlib.sha256).digest()
        self.ttl_seconds = ttl_seconds

    def _mac(self, upload_id: int, key: str, exp: int) -> str:
        return hmac.new(self._key, f"{upload_id}\n{key}\n{exp}".encode(), hashlib.sha256).hexdigest()

    def url(self, upload_id: int, key: str, now: float | None = None) -> str:
        exp = math.ceil(((time.time() if now is None else now) + self.ttl_seconds) / _STEP_SECONDS) * _STEP_SECONDS
        return (PATH.format(upload_id=upload_id) + f"?key={quote(key, safe='')}&exp={exp}"
                f"&sig={self._mac(upload_id, key, exp)}")

    def valid(self, upload_id: int, key: str, exp: int, sig: str, now: float | None = None) -> bool:
        fresh = exp >= (time.time() if now is None else now)
        return fresh and hmac.compare_digest(sig.encode(), self._mac(upload_id, key, exp).encode())

    def sign_photos(self, report: dict[str, Any]) -> dict[str, Any]:
        """Give each photo a `signed_url` (the photos listed are those the caller may see); drop the storage key."""
        for photo in report.get("photos", []):
            photo["signed_url"] = self.url(photo["id"], photo.pop("storage_key"))
        return report

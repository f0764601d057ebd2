"""JSON written straight from plain dicts, for the hot reads: no second validation through the response model.

The wire format is the one FastAPI writes through the models (UTC datetimes end in "Z"); tests validate every hot
read's body against its documented model and compare the two renderings, and schemathesis checks them against
the OpenAPI document.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


class JSONBody(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_UTC_Z)

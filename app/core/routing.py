"""Shared route plumbing: the error responses every kind of route documents."""

from __future__ import annotations

from app.core.errors import error_responses

# Every route may answer 422 (validation) and 500; authenticated routes add 401.
PUBLIC = error_responses(422, 500)
AUTHED = error_responses(401, 422, 500)
ADMIN_READ = error_responses(401, 403, 404, 422, 500)
ADMIN_WRITE = error_responses(400, 401, 403, 404, 409, 413, 422, 500)

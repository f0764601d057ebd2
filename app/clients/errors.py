"""The errors of registered apps (codes in app/core/i18n.py and app/core/error_codes.py)."""

from __future__ import annotations

from app.core.errors import InvalidInput, NotPermitted, Unauthenticated


class ClientUnknown(Unauthenticated):
    code = "client_unknown"


class ClientSecretInvalid(Unauthenticated):
    code = "client_secret_invalid"


class ClientSuspended(NotPermitted):
    code = "client_suspended"


class ClientScopeMissing(NotPermitted):
    code = "client_scope_missing"

    def __init__(self, scope: str):
        super().__init__(details={"scope": scope})


class ClientOriginInvalid(InvalidInput):
    code = "client_origin_invalid"

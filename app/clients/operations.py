"""Which scope each operation needs: the one table (pure: no I/O).

A token issued through a registered app carries that app's scopes; `need_for(method, path template)` says which
scope lets such a token call an operation. First-party tokens (no app) are never restricted by scope: role and
relation checks apply to everyone, scopes only narrow what an app may do on its user's behalf.

Rules are path prefixes (the longest matching one wins), each with what reads (GET/HEAD) and what writes (every
other method) need. A write scope also grants the reads of its domain. An operation no rule covers is refused to
every app (fail closed), and tests/clients/test_operations.py walks every operation of the OpenAPI document to
check that a rule covers it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from app.clients.scopes import Scope


@dataclass(frozen=True, slots=True)
class Need:
    """`any_of`: one of these scopes suffices; empty: any token. `first_party`: no app may call it at all."""

    any_of: frozenset[str] = frozenset()
    first_party: bool = False

    def allows(self, scopes: frozenset[str] | None) -> bool:
        if scopes is None:  # a first-party token
            return True
        if self.first_party:
            return False
        return not self.any_of or bool(self.any_of & scopes)

    def describe(self) -> str:
        if self.first_party:
            return "first_party"
        return " | ".join(sorted(self.any_of)) or "none"


NONE = Need()
FIRST_PARTY = Need(first_party=True)


def _any(*scopes: Scope) -> Need:
    return Need(any_of=frozenset(s.value for s in scopes))


R, W = Scope.reports_read, Scope.reports_write
BR, BW = Scope.bookings_read, Scope.bookings_write
G, D, N = Scope.groups_write, Scope.deliberation_write, Scope.notifications_read

# prefix -> (reads, writes). Paths are route templates as FastAPI declares them.
RULES: dict[str, tuple[Need, Need]] = {
    # no scope: who am I, signing in and out, public and health endpoints, community notices
    "/api/v1/me": (NONE, NONE),
    "/api/v1/privacy": (NONE, NONE),  # issue 21: the notice and the user's own consents, like /me
    "/api/v1/auth": (NONE, NONE),
    "/api/v1/announcements": (NONE, FIRST_PARTY),
    "/api/v1/places": (NONE, NONE),
    "/api/v1/photos": (NONE, NONE),
    "/healthz": (NONE, NONE),
    "/readyz": (NONE, NONE),
    "/metrics": (FIRST_PARTY, FIRST_PARTY),
    # reports: the categories and departments a report picks from, photos uploaded for it
    "/api/v1/reports": (_any(R, W), _any(W)),
    "/api/v1/categories": (_any(R, W), FIRST_PARTY),
    "/api/v1/departments": (_any(R, W), FIRST_PARTY),
    "/api/v1/uploads": (_any(R, W, G, D), _any(W, G, D)),
    # bookings (服务预约) and errands
    "/api/v1/bookings": (_any(BR, BW), _any(BW)),
    "/api/v1/services": (_any(BR, BW), _any(BW)),
    "/api/v1/slots": (_any(BR, BW), _any(BW)),
    "/api/v1/errands": (_any(BR, BW), _any(BW)),
    # groups, activities, volunteering and the points they earn
    "/api/v1/groups": (_any(G), _any(G)),
    "/api/v1/activities": (_any(G), _any(G)),
    "/api/v1/points": (_any(G), _any(G)),
    # deliberation (议事) and micro projects
    "/api/v1/proposals": (_any(D), _any(D)),
    "/api/v1/proposal-comments": (_any(D), _any(D)),
    "/api/v1/projects": (_any(D), _any(D)),
    "/api/v1/communities": (_any(D), _any(D)),
    # the user's own notifications (marking them read is part of reading them)
    "/api/v1/notifications": (_any(N), _any(N)),
    # the Open311 facade: public reads; posting takes an app's api_key holding `open311`
    # (app/clients/service.client_for_api_key)
    "/open311": (NONE, _any(Scope.open311)),
    # staff figures and the admin trees: the first-party console only
    "/api/v1/stats": (FIRST_PARTY, FIRST_PARTY),
    "/api/v1/admin": (FIRST_PARTY, FIRST_PARTY),
}

_READS = frozenset({"GET", "HEAD", "OPTIONS"})
_PREFIXES = sorted(RULES, key=len, reverse=True)


@lru_cache(maxsize=1024)
def need_for(method: str, path: str) -> Need | None:
    """What `method path` (a route template) needs; None when no rule covers it (refused to apps)."""
    for prefix in _PREFIXES:
        if path == prefix or path.startswith(prefix + "/") or path.startswith(prefix + "."):
            reads, writes = RULES[prefix]
            return reads if method.upper() in _READS else writes
    return None


def allowed(method: str, path: str, scopes: frozenset[str] | None) -> tuple[bool, Need]:
    """Whether a token with `scopes` (None: first party) may call the operation, and what it needs."""
    need = need_for(method, path) or FIRST_PARTY
    return need.allows(scopes), need


def annotate(doc: dict[str, Any]) -> dict[str, Any]:
    """Mark every operation of an OpenAPI document with what an app's token needs to call it:
    `x-client-scopes` (any one of them; [] for none), and `x-first-party-only: true` where no app may."""
    for path, item in doc.get("paths", {}).items():
        for method, op in item.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            need = need_for(method.upper(), path) or FIRST_PARTY
            op["x-client-scopes"] = sorted(need.any_of)
            if need.first_party:
                op["x-first-party-only"] = True
    return doc

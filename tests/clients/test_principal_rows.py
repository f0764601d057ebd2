"""principal_of with an app's token: the app's status and scopes of now decide (pure, over given rows)."""

from __future__ import annotations

from app.auth.deps import principal_of


def _rows(status="active", scopes=("reports:read", "reports:write")):
    return [{"id": 7, "role": "resident", "is_active": True, "building_id": 3, "community_id": 2,
             "department_id": None, "scope_grid_id": None, "path": None, "level": None, "password_changed_at": None,
             "grid_id": None, "session_live": True, "client_status": status,
             "client_scopes": list(scopes) if scopes is not None else None}]


def test_first_party_token_has_no_scopes():
    p = principal_of(_rows(status=None, scopes=None), role="resident", issued_at=None, sid="s")
    assert p is not None and p.client_id is None and p.scopes is None


def test_app_token_gets_the_token_scopes_the_app_still_holds():
    p = principal_of(_rows(scopes=["reports:read"]), role="resident", issued_at=None, sid="s", cid="wlc_a",
                     scp=("reports:read", "reports:write"))
    assert p is not None and p.client_id == "wlc_a" and p.scopes == frozenset({"reports:read"})
    wider = principal_of(_rows(scopes=["reports:read", "open311"]), role="resident", issued_at=None, sid="s",
                         cid="wlc_a", scp=("reports:read",))
    assert wider is not None and wider.scopes == frozenset({"reports:read"})


def test_suspended_or_missing_app_gives_no_principal():
    assert principal_of(_rows(status="suspended"), role="resident", issued_at=None, sid="s", cid="wlc_a",
                        scp=("reports:read",)) is None
    assert principal_of(_rows(status=None, scopes=None), role="resident", issued_at=None, sid="s", cid="wlc_a",
                        scp=("reports:read",)) is None

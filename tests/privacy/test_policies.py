"""Table tests of the one rule on phone numbers and names (app/privacy/policies.py) and of the consent check."""

from __future__ import annotations

import pytest

from app.auth.principal import Principal
from app.core.config import Settings
from app.privacy import policies as privacy
from app.privacy.consent import needs_consent
from app.privacy.policies import ANONYMOUS_NAME, PhoneView
from app.reports.lifecycle import ReportFacts, State
from app.users.roles import Role

SUBJECT = 10  # the resident whose number or name is shown
PHONE = "13812341234"

RESIDENT_SELF = Principal(user_id=SUBJECT, role=Role.resident, community_id=1, building_id=5)
NEIGHBOUR = Principal(user_id=11, role=Role.resident, community_id=1, building_id=5)
WORKER_IN = Principal(user_id=20, role=Role.grid_worker, grid_ids=frozenset({3}))
WORKER_OUT = Principal(user_id=21, role=Role.grid_worker, grid_ids=frozenset({4}))
DEPT_IN = Principal(user_id=30, role=Role.department, department_id=7)
DEPT_OUT = Principal(user_id=31, role=Role.department, department_id=8)
ADMIN = Principal(user_id=40, role=Role.admin, scope_grid_id=1, scope_path="/1/", scope_level="community")


@pytest.mark.parametrize(("viewer", "handles", "expected"), [
    (RESIDENT_SELF, False, PhoneView.full),       # one's own number
    (RESIDENT_SELF, True, PhoneView.full),
    (NEIGHBOUR, False, PhoneView.hidden),         # residents never see another's number
    (NEIGHBOUR, True, PhoneView.hidden),          # not even if a caller claims they handle something
    (WORKER_IN, True, PhoneView.full),            # staff whose work needs it
    (WORKER_IN, False, PhoneView.masked),         # other staff: masked
    (DEPT_IN, True, PhoneView.full),
    (DEPT_OUT, False, PhoneView.masked),
    (ADMIN, True, PhoneView.full),
    (ADMIN, False, PhoneView.masked),
])
def test_phone_view(viewer, handles, expected):
    assert privacy.phone_view(viewer, SUBJECT, handles=handles) is expected


@pytest.mark.parametrize(("view", "shown"), [
    (PhoneView.full, PHONE), (PhoneView.masked, "138****1234"), (PhoneView.hidden, None)])
def test_shown_phone(view, shown):
    assert privacy.shown_phone(PHONE, view) == shown
    assert privacy.shown_phone(None, view) is None


def _facts(**kw) -> ReportFacts:
    base = dict(state=State.dispatched, reporter_id=SUBJECT, grid_id=3, grid_path="/1/2/3/", community_id=2,
                handler_department_id=7, handler_user_id=None, is_public=True, hidden=False)
    return ReportFacts(**{**base, **kw})


@pytest.mark.parametrize(("viewer", "facts", "handles"), [
    (WORKER_IN, _facts(), True),                                   # grid worker of the report's grid
    (WORKER_OUT, _facts(), False),                                 # another grid's worker
    (WORKER_OUT, _facts(handler_user_id=21, handler_department_id=None), True),  # keeps it (自办)
    (DEPT_IN, _facts(), True),                                     # the department it is dispatched to
    (DEPT_IN, _facts(handler_department_id=None, state=State.accepted), False),  # not (yet) dispatched to them
    (DEPT_OUT, _facts(), False),
    (ADMIN, _facts(), False),                                      # admins supervise: masked
    (NEIGHBOUR, _facts(), False),
    (RESIDENT_SELF, _facts(), False),                              # the reporter is no handler (own number: full)
])
def test_handles_report(viewer, facts, handles):
    assert privacy.handles_report(viewer, facts) is handles


@pytest.mark.parametrize(("viewer", "hide", "expected"), [
    (NEIGHBOUR, True, {"id": None, "display_name": ANONYMOUS_NAME}),
    (NEIGHBOUR, False, {"id": SUBJECT, "display_name": "张三"}),
    (RESIDENT_SELF, True, {"id": SUBJECT, "display_name": "张三"}),   # the reporter sees themself
    (WORKER_IN, True, {"id": SUBJECT, "display_name": "张三"}),       # staff always see who reported
    (WORKER_OUT, True, {"id": SUBJECT, "display_name": "张三"}),
    (ADMIN, True, {"id": SUBJECT, "display_name": "张三"}),
])
def test_reporter_ref(viewer, hide, expected):
    assert privacy.reporter_ref(viewer, SUBJECT, "张三", hide) == expected


@pytest.mark.parametrize(("viewer", "one", "expected"), [
    (ADMIN, True, PhoneView.full),        # one account read by the admin who manages it (audited)
    (ADMIN, False, PhoneView.masked),     # lists and searches
    (WORKER_IN, True, PhoneView.masked),  # not an account manager
    (RESIDENT_SELF, False, PhoneView.full),
])
def test_account_phone_view(viewer, one, expected):
    assert privacy.account_phone_view(viewer, SUBJECT, one_account=one) is expected


@pytest.mark.parametrize(("viewer", "role", "audited"), [
    (ADMIN, Role.resident, True), (ADMIN, Role.grid_worker, False), (RESIDENT_SELF, Role.resident, False),
    (Principal(user_id=SUBJECT, role=Role.admin), Role.admin, False)])
def test_audits_profile_read(viewer, role, audited):
    assert privacy.audits_profile_read(viewer, SUBJECT, role) is audited


S = Settings(jwt_secret="x" * 40, privacy_notice_version="v2")


@pytest.mark.parametrize(("role", "accepted", "method", "path", "needed"), [
    (Role.resident, "v2", "GET", "/api/v1/reports", False),     # current: go on
    (Role.resident, "v1", "GET", "/api/v1/reports", True),      # older: accept first
    (Role.resident, None, "POST", "/api/v1/reports", True),     # never accepted
    (Role.resident, "v1", "GET", "/api/v1/privacy/notice", False),
    (Role.resident, "v1", "POST", "/api/v1/privacy/consents", False),
    (Role.resident, "v1", "GET", "/api/v1/privacy/consents", False),
    (Role.resident, "v1", "GET", "/api/v1/me", False),
    (Role.resident, "v1", "GET", "/api/v1/me/", False),
    (Role.resident, "v1", "PATCH", "/api/v1/me", True),         # only reading one's profile
    (Role.resident, "v1", "POST", "/api/v1/auth/logout", False),
    (Role.grid_worker, None, "GET", "/api/v1/reports", False),  # staff are informed by their employer
    (Role.admin, None, "GET", "/api/v1/reports", False),
])
def test_needs_consent(role, accepted, method, path, needed):
    assert needs_consent(S, role, accepted, method, path) is needed

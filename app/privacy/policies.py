"""Who sees which phone number and which name: the one rule every domain's serializers call (issue 21).

- A person always sees their own phone number.
- Residents never see another person's number (only display names).
- Staff see a resident's full number only while their work needs it: they handle that resident's case (the grid
  worker of a report's grid, the staff of the department it is dispatched to, the grid worker keeping it; the
  organiser of their booking or errand; an admin reading one account they manage, which is audited). Every other
  staff view shows it masked (138****1234).
- A reporter who hid their name appears to other residents as "匿名居民" with no id; staff and the reporter see
  the real name.

Pure: no I/O, table-tested in tests/privacy/test_policies.py.
"""

from __future__ import annotations

from enum import StrEnum

from app.auth.principal import Principal
from app.core.validators import mask_phone
from app.reports.lifecycle import Relation, ReportFacts, relations
from app.users.roles import Role

ANONYMOUS_NAME = "匿名居民"
ANONYMOUS_NAME_EN = "Anonymous resident"


class PhoneView(StrEnum):
    full = "full"
    masked = "masked"
    hidden = "hidden"


def phone_view(p: Principal, subject_id: int, *, handles: bool = False) -> PhoneView:
    """How `p` sees the phone number of user `subject_id`. `handles`: p's work on a case of the subject needs
    their number (see the module docstring for who that is); only staff can handle."""
    if p.user_id == subject_id:
        return PhoneView.full
    if p.role is Role.resident:
        return PhoneView.hidden
    return PhoneView.full if handles else PhoneView.masked


def shown_phone(phone: str | None, view: PhoneView) -> str | None:
    """The number as that view shows it: itself, masked, or None."""
    if phone is None or view is PhoneView.hidden:
        return None
    return phone if view is PhoneView.full else mask_phone(phone)


def phone_for(p: Principal, subject_id: int, phone: str | None, *, handles: bool = False) -> str | None:
    return shown_phone(phone, phone_view(p, subject_id, handles=handles))


# ---- reports ------------------------------------------------------------------------------------------------

_REPORT_HANDLERS = frozenset({Relation.grid_keeper, Relation.handler})


def handles_report(p: Principal, facts: ReportFacts) -> bool:
    """Staff who work the report: the grid worker of its grid (intake, dispatch, patrol follow-up), the grid worker
    keeping it, or staff of the department it is dispatched to. Admins supervise, so they see the number masked."""
    return p.role is not Role.resident and bool(relations(p, facts) & _REPORT_HANDLERS)


def sees_reporter(p: Principal, reporter_id: int, hide_reporter: bool) -> bool:
    """Whether p sees who filed a report: always, unless a resident other than the reporter and the reporter hid
    their name."""
    return not hide_reporter or p.role is not Role.resident or p.user_id == reporter_id


def reporter_ref(p: Principal, reporter_id: int, display_name: str, hide_reporter: bool) -> dict[str, int | str | None]:
    """The reporter as p sees them: {id, display_name}, or the anonymous resident with no id."""
    if sees_reporter(p, reporter_id, hide_reporter):
        return {"id": reporter_id, "display_name": display_name}
    return {"id": None, "display_name": ANONYMOUS_NAME}


# ---- accounts -----------------------------------------------------------------------------------------------


def account_phone_view(p: Principal, subject_id: int, *, one_account: bool) -> PhoneView:
    """An account's number in account management: the person themself; an admin reading ONE account they manage
    (to reach the person; recorded in the audit trail); masked in lists and searches."""
    return phone_view(p, subject_id, handles=one_account and p.role is Role.admin)


def audits_profile_read(p: Principal, subject_id: int, subject_role: str) -> bool:
    """Staff reading a resident's full profile (full number included) leave an audit entry."""
    return p.user_id != subject_id and p.role is not Role.resident and subject_role == Role.resident

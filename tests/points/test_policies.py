"""The pure rules of points: who manages, reads, redeems and steps a redemption."""

from __future__ import annotations

from app.auth.principal import Principal
from app.points import policies
from app.points.enums import REDEMPTION_STEPS, RedemptionAction, RedemptionStatus
from app.users.roles import Role

C1 = "/1/2/"
RESIDENT = Principal(user_id=10, role=Role.resident, community_id=2)
STRANGER = Principal(user_id=12, role=Role.resident, community_id=3)
ADMIN_C1 = Principal(user_id=20, role=Role.admin, scope_grid_id=2, scope_path=C1, scope_level="community")
ADMIN_C2 = Principal(user_id=21, role=Role.admin, scope_grid_id=3, scope_path="/1/3/", scope_level="community")
DEPT = Principal(user_id=30, role=Role.department, department_id=1)


def test_rewards_are_seen_by_the_community_and_inactive_ones_by_staff_only():
    assert [policies.can_see_reward(p, 2, C1, True) for p in (RESIDENT, STRANGER, ADMIN_C1, ADMIN_C2, DEPT)] == \
        [True, False, True, False, False]
    assert [policies.can_see_reward(p, 2, C1, False) for p in (RESIDENT, ADMIN_C1)] == [False, True]
    assert [policies.can_redeem(p, 2) for p in (RESIDENT, STRANGER, ADMIN_C1)] == [True, False, False]


def test_staff_fulfil_and_the_resident_or_staff_cancel():
    fulfil, cancel = RedemptionAction.fulfil, RedemptionAction.cancel
    assert [policies.can_step_redemption(p, fulfil, RESIDENT.user_id, C1) for p in (RESIDENT, ADMIN_C1, ADMIN_C2)] \
        == [False, True, False]
    assert [policies.can_step_redemption(p, cancel, RESIDENT.user_id, C1) for p in (RESIDENT, ADMIN_C1, STRANGER)] \
        == [True, True, False]


def test_redemption_steps_leave_requested_only():
    assert {a: s for a, (s, _) in REDEMPTION_STEPS.items()} == {
        RedemptionAction.fulfil: RedemptionStatus.requested, RedemptionAction.cancel: RedemptionStatus.requested}
    assert {t for _, t in REDEMPTION_STEPS.values()} == {RedemptionStatus.fulfilled, RedemptionStatus.cancelled}

"""Who may see and do what with points, rewards and redemptions. Pure: no database, no models.

Points belong to a resident in a community; the community's staff are the admins whose scope covers it."""

from __future__ import annotations

from app.auth.principal import Principal
from app.points.enums import RedemptionAction
from app.users.roles import Role


def is_staff_of(p: Principal, community_path: str) -> bool:
    return p.in_scope(community_path)


def is_resident_of(p: Principal, community_id: int) -> bool:
    return p.role is Role.resident and p.community_id == community_id


def can_manage(p: Principal, community_path: str) -> bool:
    """Earning rules, pact items and awards, adjustments, rewards, fulfilment."""
    return is_staff_of(p, community_path)


def can_read_community(p: Principal, community_id: int, community_path: str) -> bool:
    """Rules, rewards and the published ranking: the community's residents and staff."""
    return is_resident_of(p, community_id) or is_staff_of(p, community_path)


def can_see_reward(p: Principal, community_id: int, community_path: str, active: bool) -> bool:
    return is_staff_of(p, community_path) or (active and is_resident_of(p, community_id))


def can_redeem(p: Principal, community_id: int) -> bool:
    return is_resident_of(p, community_id)


def can_see_redemption(p: Principal, owner_id: int, community_path: str) -> bool:
    return p.user_id == owner_id or is_staff_of(p, community_path)


def can_step_redemption(p: Principal, action: RedemptionAction, owner_id: int, community_path: str) -> bool:
    """Staff fulfil; the resident who asked, or staff, cancel (the points come back)."""
    if action is RedemptionAction.fulfil:
        return is_staff_of(p, community_path)
    return p.user_id == owner_id or is_staff_of(p, community_path)


def due_to_expire(old_credits: int, debits: int, balance: int) -> int:
    """First in, first out: spending (redemptions, expiries, negative adjustments) uses the oldest points first, so
    of the points credited before the cutoff, what spending has not used up expires, never more than the balance."""
    return max(0, min(balance, old_credits - debits))

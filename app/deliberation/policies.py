"""Who may see and do what in deliberation. Pure functions: no database, no models (table-tested).
Who may take a *step* of a proposal is in lifecycle.py; `council` below is council.is_council's answer."""

from __future__ import annotations

from enum import StrEnum

from app.auth.principal import Principal
from app.deliberation.lifecycle import COMMENTABLE, SUPPORTABLE, ProposalFacts, State
from app.users.roles import Role


class Ineligible(StrEnum):
    """Why a resident is not in a vote's electorate, in words the API returns (not_eligible.details.reason)."""

    not_a_resident = "not_a_resident"              # staff do not vote
    outside_electorate = "outside_electorate"      # lives outside the node the vote is for (another building)
    joined_after_opening = "joined_after_opening"  # the roll was drawn when the vote opened, before they moved in


def is_neighbour(p: Principal, community_id: int) -> bool:
    return p.role is Role.resident and p.community_id == community_id


def can_raise(p: Principal) -> bool:
    """Residents raise proposals, in their own community."""
    return p.role is Role.resident and p.community_id is not None


def can_see(p: Principal, f: ProposalFacts, council: bool) -> bool:
    """Residents of the community and its council; anyone else is told it does not exist (404)."""
    return council or is_neighbour(p, f.community_id)


def can_support(p: Principal, f: ProposalFacts) -> bool:
    """附议: a neighbour, not the proposer (raising it is their support)."""
    return is_neighbour(p, f.community_id) and p.user_id != f.proposer_id


def support_open(f: ProposalFacts) -> bool:
    return f.state in SUPPORTABLE


def can_comment(p: Principal, f: ProposalFacts, council: bool) -> bool:
    return council or is_neighbour(p, f.community_id)


def comments_open(f: ProposalFacts) -> bool:
    return f.state in COMMENTABLE


def can_hide_comment(p: Principal, council: bool) -> bool:
    """Moderation is an admin's: a council member who is an admin (future council residents do not moderate)."""
    return council and p.is_admin


def sees_hidden_comment(p: Principal, author_id: int, council: bool) -> bool:
    """The author sees their hidden comment and why; the council sees it too; others see a placeholder."""
    return p.user_id == author_id or council


def can_manage_community(p: Principal, community_path: str) -> bool:
    """Thresholds, budgets, milestones: admins whose scope covers the community (like categories it owns)."""
    return p.in_scope(community_path)


def can_read_community(p: Principal, community_id: int, community_path: str) -> bool:
    return is_neighbour(p, community_id) or p.in_scope(community_path)


def ineligibility(p: Principal, on_roll: bool, lives_in_electorate: bool) -> Ineligible | None:
    """None when the resident may vote (is on the roll drawn at opening), else why not."""
    if on_roll:
        return None
    if p.role is not Role.resident:
        return Ineligible.not_a_resident
    return Ineligible.joined_after_opening if lives_in_electorate else Ineligible.outside_electorate


def tallies_public(state: State, tallied: bool) -> bool:
    """Counts per option are published with the result, never while the vote runs (turnout is live)."""
    return tallied

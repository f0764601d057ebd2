"""The pure rules of groups and activities, as tables (no database), and the SQL twin of group visibility held
to the same answer."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from app.auth.principal import Principal
from app.groups import policies
from app.groups.enums import GroupStatus, JoinPolicy, MemberRole, MemberStatus, Visibility
from app.groups.models import Group
from app.groups.policies import ActivityFacts, GroupFacts, MemberFacts
from app.groups.queries import visible_groups_sql
from app.users.roles import Role

C1, C2 = "/1/2/", "/1/3/"
RESIDENT = Principal(user_id=10, role=Role.resident, community_id=2)
NEIGHBOUR = Principal(user_id=11, role=Role.resident, community_id=2)
STRANGER = Principal(user_id=12, role=Role.resident, community_id=3)
ADMIN_C1 = Principal(user_id=20, role=Role.admin, scope_grid_id=2, scope_path=C1, scope_level="community")
ADMIN_C2 = Principal(user_id=21, role=Role.admin, scope_grid_id=3, scope_path=C2, scope_level="community")
STREET = Principal(user_id=22, role=Role.admin, scope_grid_id=1, scope_path="/1/", scope_level="street")
WORKER = Principal(user_id=30, role=Role.grid_worker, grid_ids=frozenset({4}))
ALL = (RESIDENT, NEIGHBOUR, STRANGER, ADMIN_C1, ADMIN_C2, STREET, WORKER)

LEADER = MemberFacts(MemberRole.leader, MemberStatus.active)
MEMBER = MemberFacts(MemberRole.member, MemberStatus.active)
APPLIED = MemberFacts(MemberRole.member, MemberStatus.applied)


def group(status: GroupStatus = GroupStatus.active, proposer: int | None = None) -> GroupFacts:
    return GroupFacts(community_id=2, community_path=C1, status=status, join_policy=JoinPolicy.open,
                      proposed_by_id=proposer)


@pytest.mark.parametrize(("p", "status", "seen"), [
    (RESIDENT, GroupStatus.active, True), (RESIDENT, GroupStatus.archived, True),
    (NEIGHBOUR, GroupStatus.proposed, False), (RESIDENT, GroupStatus.proposed, True),  # the proposer
    (NEIGHBOUR, GroupStatus.declined, False), (STRANGER, GroupStatus.active, False),
    (ADMIN_C1, GroupStatus.proposed, True), (STREET, GroupStatus.declined, True), (ADMIN_C2, GroupStatus.active, False),
    (WORKER, GroupStatus.active, False),
])
def test_who_sees_a_group(p, status, seen):
    assert policies.can_see_group(p, group(status, proposer=RESIDENT.user_id)) is seen


def test_members_and_staff_read_members_leaders_and_staff_manage():
    g = group()
    assert [policies.can_read_members(p, g, m) for p, m in
            [(NEIGHBOUR, None), (NEIGHBOUR, APPLIED), (NEIGHBOUR, MEMBER), (ADMIN_C1, None), (ADMIN_C2, None)]] \
        == [False, False, True, True, False]
    assert [policies.can_manage_members(p, g, m) for p, m in
            [(NEIGHBOUR, MEMBER), (NEIGHBOUR, LEADER), (ADMIN_C1, None), (STREET, None), (WORKER, None)]] \
        == [False, True, True, True, False]
    assert not policies.can_manage_members(ADMIN_C1, group(GroupStatus.archived), None)
    assert policies.can_edit_group(NEIGHBOUR, g, LEADER) and not policies.can_edit_group(
        NEIGHBOUR, group(GroupStatus.archived), LEADER)


def test_only_residents_of_the_community_join_active_groups():
    assert [policies.can_join(p, group()) for p in ALL] == [True, True, False, False, False, False, False]
    assert not policies.can_join(RESIDENT, group(GroupStatus.archived))


def test_activities_eligibility_and_organisers():
    members_only = ActivityFacts(community_id=2, community_path=C1, organiser_id=NEIGHBOUR.user_id,
                                 visibility=Visibility.members_only, group=group())
    assert policies.can_see_activity(RESIDENT, members_only) and policies.can_sign_up(RESIDENT, members_only)
    assert not policies.is_eligible(members_only, None) and not policies.is_eligible(members_only, APPLIED)
    assert policies.is_eligible(members_only, MEMBER)
    assert not policies.can_see_activity(STRANGER, members_only)
    assert [policies.can_organise(p, members_only, None) for p in ALL] == \
        [False, True, False, True, False, True, False]
    assert policies.can_create_activity(RESIDENT, C1, group(), LEADER)
    assert not policies.can_create_activity(RESIDENT, C1, None, LEADER)  # community activities: staff only
    assert not policies.can_create_activity(ADMIN_C1, C1, group(GroupStatus.archived), None)


async def test_the_sql_visibility_agrees_with_the_policy(app, world):
    """Groups of both communities in every status, each viewer: the list condition and the pure rule agree."""
    from app.auth.deps import load_principal

    async with app.state.db.session(write=True) as s:
        made = []
        for (community, path), status in itertools.product(
                [(world.c1.id, world.c1.path), (world.c2.id, world.c2.path)], list(GroupStatus)):
            g = Group(community_id=community, community_path=path, kind="interest", name=f"g-{status}",
                      join_policy="open", member_count=0, status=status.value, version=1,
                      proposed_by_id=world.users["resident_a"].id)
            s.add(g)
            made.append(g)
        await s.flush()
    for actor in world.users:
        async with app.state.db.session(write=False) as s:
            p = await load_principal(s, world.users[actor].id)
            assert p is not None
            listed = set((await s.execute(select(Group.id).where(visible_groups_sql(p)))).scalars())
        expected = {g.id for g in made if policies.can_see_group(p, GroupFacts(
            community_id=g.community_id, community_path=g.community_path, status=GroupStatus(g.status),
            join_policy=JoinPolicy(g.join_policy), proposed_by_id=g.proposed_by_id))}
        assert listed == expected, actor

"""Table tests of the admin policies (app/org/policies.py, app/users/policies.py): no database.

The tree (materialised paths): street /1/ ─ c1 /1/2/ ─ g1 /1/2/4/ ─ b1 /1/2/4/6/
                                          └ c2 /1/3/ ─ g2 /1/3/5/ ─ b3 /1/3/5/7/
plus /1/20/ (a sibling whose path starts with c1's digits) and /9/ (another street).
Every row states who, which object, and the answer; each row is a separate case, so True and False both count.
"""

from __future__ import annotations

import pytest
from sqlalchemy import false
from sqlalchemy.dialects import postgresql

from app.auth.principal import Principal
from app.org import policies as org
from app.users import policies as users
from app.users.models import Role

PATHS = {
    "street": "/1/",
    "c1": "/1/2/",
    "g1": "/1/2/4/",
    "b1": "/1/2/4/6/",
    "c2": "/1/3/",
    "g2": "/1/3/5/",
    "b3": "/1/3/5/7/",
    "c20": "/1/20/",       # not inside c1, although '/1/2' is a prefix of it
    "other_street": "/9/",
}

PRINCIPALS = {
    "admin_street": Principal(user_id=1, role=Role.admin, scope_grid_id=1, scope_path="/1/"),
    "admin_c1": Principal(user_id=2, role=Role.admin, scope_grid_id=2, scope_path="/1/2/"),
    "admin_c2": Principal(user_id=3, role=Role.admin, scope_grid_id=3, scope_path="/1/3/"),
    "admin_unscoped": Principal(user_id=4, role=Role.admin),  # scope node missing: sees nothing
    "resident": Principal(user_id=5, role=Role.resident, building_id=6, community_id=2),
    "grid_worker": Principal(user_id=6, role=Role.grid_worker, grid_ids=frozenset({4})),
    "department": Principal(user_id=7, role=Role.department, department_id=1),
    # a non-admin that somehow carries a scope path: the role decides, not the path
    "department_with_path": Principal(user_id=8, role=Role.department, department_id=1, scope_path="/1/"),
}

STREET_SUBTREE = {"street", "c1", "g1", "b1", "c2", "g2", "b3", "c20"}
C1_SUBTREE = {"c1", "g1", "b1"}
C2_SUBTREE = {"c2", "g2", "b3"}

# Read, add a child, own departments/categories: the scope node and everything below it.
IN_SCOPE = {
    "admin_street": STREET_SUBTREE,
    "admin_c1": C1_SUBTREE,
    "admin_c2": C2_SUBTREE,
}
# Rename or retire: strictly below the scope node (the scope node itself belongs to the level above).
BELOW_SCOPE = {
    "admin_street": STREET_SUBTREE - {"street"},
    "admin_c1": C1_SUBTREE - {"c1"},
    "admin_c2": C2_SUBTREE - {"c2"},
}

CASES = [(who, where) for who in PRINCIPALS for where in PATHS]


def _ids(case):
    return f"{case[0]}-{case[1]}"


def test_the_table_has_both_answers():
    """A table where everything is False (or True) would prove nothing."""
    for table in (IN_SCOPE, BELOW_SCOPE):
        answers = {where in table.get(who, set()) for who, where in CASES}
        assert answers == {True, False}


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_can_read_node(case):
    who, where = case
    assert org.can_read_node(PRINCIPALS[who], PATHS[where]) is (where in IN_SCOPE.get(who, set()))


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_can_add_child(case):
    who, where = case
    assert org.can_add_child(PRINCIPALS[who], PATHS[where]) is (where in IN_SCOPE.get(who, set()))


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_can_manage_owned(case):
    who, where = case
    assert org.can_manage_owned(PRINCIPALS[who], PATHS[where]) is (where in IN_SCOPE.get(who, set()))


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_can_change_node(case):
    who, where = case
    assert org.can_change_node(PRINCIPALS[who], PATHS[where]) is (where in BELOW_SCOPE.get(who, set()))


@pytest.mark.parametrize("who", list(PRINCIPALS))
def test_the_one_admin_guard(who):
    from app.auth.guards import ensure_admin
    from app.core.errors import NotPermitted

    if who.startswith("admin_"):
        ensure_admin(PRINCIPALS[who])
    else:
        with pytest.raises(NotPermitted):
            ensure_admin(PRINCIPALS[who])


def test_there_is_one_admin_guard():
    """Every admin check goes through app/auth/guards.ensure_admin (issue 13, item 21)."""
    import re
    from pathlib import Path

    app_dir = Path(__file__).resolve().parents[2] / "app"
    guards = [f"{p.relative_to(app_dir)}: {m.group(0)}" for p in app_dir.rglob("*.py")
              for m in re.finditer(r"def \w*(require_admin|can_administer|ensure_admin)\w*", p.read_text())]
    assert guards == ["auth/guards.py: def ensure_admin"] or sorted(guards) == sorted(
        ["auth/guards.py: def ensure_admin", "auth/deps.py: def require_admin"]), guards


@pytest.mark.parametrize("who", list(PRINCIPALS))
def test_nothing_is_in_scope_of_a_missing_path(who):
    p = PRINCIPALS[who]
    assert org.can_read_node(p, "") is False
    assert org.can_change_node(p, "") is False
    assert p.in_scope(None) is False


@pytest.mark.parametrize(("path", "community"), [
    ("/1/", None), ("/1/2/", 2), ("/1/2/4/", 2), ("/1/3/5/7/", 3), ("", None),
])
def test_community_of(path, community):
    assert org.community_of(path) == community


# ---- the SQL list filter: the same rule as the per-object check -----------------------------------------------


def _sql(cond) -> str:
    return str(cond.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))


@pytest.mark.parametrize("who", ["admin_unscoped", "resident", "grid_worker", "department", "department_with_path"])
def test_list_filters_are_false_for_non_admins_and_unscoped_admins(who):
    assert org.visible_grids(PRINCIPALS[who]).compare(false())
    assert users.visible_users(PRINCIPALS[who]).compare(false())


@pytest.mark.parametrize("who", ["admin_street", "admin_c1", "admin_c2"])
def test_list_filters_are_a_prefix_match_on_the_scope_path(who):
    p = PRINCIPALS[who]
    for cond in (org.visible_grids(p), users.visible_users(p)):
        sql = _sql(cond)
        assert not cond.compare(false())
        # autoescape doubles the '/' escape character; the pattern is the scope path followed by '%'
        assert "LIKE" in sql and p.scope_path.replace("/", "//") + "'" in sql, sql
        for other in {"admin_street", "admin_c1", "admin_c2"} - {who}:
            assert PRINCIPALS[other].scope_path.replace("/", "//") + "'" not in sql


# ---- accounts ---------------------------------------------------------------------------------------------------

# An account is anchored by its home building, its grids, its department's owner node, or its admin scope.
ACCOUNTS = {
    "resident_c1": [PATHS["b1"]],
    "resident_c2": [PATHS["b3"]],
    "worker_c1": [PATHS["g1"]],
    "worker_both": [PATHS["g1"], PATHS["g2"]],
    "dept_of_street": [PATHS["street"]],
    "dept_of_c2": [PATHS["c2"]],
    "admin_of_c1": [PATHS["c1"]],
    "admin_of_street": [PATHS["street"]],
    "worker_c20": [PATHS["c20"]],
    "unanchored": [],
}
ROLES = {"resident_c1": Role.resident, "resident_c2": Role.resident, "worker_c1": Role.grid_worker,
         "worker_both": Role.grid_worker, "dept_of_street": Role.department, "dept_of_c2": Role.department,
         "admin_of_c1": Role.admin, "admin_of_street": Role.admin, "worker_c20": Role.grid_worker,
         "unanchored": Role.resident}
# Every anchor below the scope; an admin account strictly below (never an equal), issue 13 item 5.
MANAGES = {
    "admin_street": set(ACCOUNTS) - {"unanchored", "admin_of_street"},
    "admin_c1": {"resident_c1", "worker_c1"},
    "admin_c2": {"resident_c2", "dept_of_c2"},
}
REBINDS = {"admin_street": {"worker_c1", "worker_both", "worker_c20"}, "admin_c1": {"worker_c1", "worker_both"},
           "admin_c2": {"worker_both"}}


@pytest.mark.parametrize("case", [(w, a) for w in PRINCIPALS for a in ACCOUNTS], ids=_ids)
def test_can_manage_user(case):
    who, account = case
    assert users.can_manage_user(PRINCIPALS[who], ROLES[account], ACCOUNTS[account]) \
        is (account in MANAGES.get(who, set()))


@pytest.mark.parametrize("case", [(w, a) for w in PRINCIPALS for a in ACCOUNTS], ids=_ids)
def test_can_rebind_own_grids(case):
    who, account = case
    assert users.can_rebind_own_grids(PRINCIPALS[who], ROLES[account], ACCOUNTS[account]) \
        is (account in REBINDS.get(who, set()))


@pytest.mark.parametrize(("who", "target", "allowed"), [
    ("admin_c1", 2, False),      # itself
    ("admin_c1", 1, True),       # another admin
    ("admin_c1", 5, True),       # a resident
    ("admin_street", 1, False),
    ("admin_street", 2, True),
])
def test_can_change_self(who, target, allowed):
    assert users.can_change_self(PRINCIPALS[who], target) is allowed

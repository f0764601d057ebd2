"""Admin management of grids, departments and categories through HTTP: scope, audit, pagination, bad input."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.core.pagination import encode_cursor
from app.org.models import Category, Department, Grid
from tests.helpers import assert_error

API = "/api/v1/admin"


async def _count(db, model, *where) -> int:
    async with db.session(write=False) as s:
        return (await s.execute(select(func.count()).select_from(model).where(*where))).scalar_one()


async def _audit(db, action: str, object_id: int) -> list[AuditEntry]:
    async with db.session(write=False) as s:
        return list((await s.execute(select(AuditEntry).where(AuditEntry.action == action,
                                                              AuditEntry.object_id == object_id))).scalars())


async def _snapshot(db) -> tuple[int, ...]:
    return tuple([await _count(db, m) for m in (Grid, Department, Category, AuditEntry)])


async def _walk(client, url: str, headers: dict, limit: int, **params) -> list[int]:
    """Follow next_cursor to the end; return every id in order."""
    ids: list[int] = []
    cursor = None
    for _ in range(100):
        query = {"limit": limit, **params, **({"cursor": cursor} if cursor else {})}
        resp = await client.get(url, headers=headers, params=query)
        assert resp.status_code == 200, resp.text
        page = resp.json()
        assert len(page["items"]) <= limit
        ids += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return ids
        assert page["items"], "a page with a next cursor must not be empty"
    raise AssertionError("the cursor walk did not end")


# ---- grids ------------------------------------------------------------------------------------------------------


async def test_grid_create_list_get_update_retire_inside_scope_with_audit(client, world, db):
    h = world.headers("admin_c1")
    actor = world.users["admin_c1"].id
    resp = await client.post(f"{API}/grids", headers=h,
                             json={"parent_id": world.g1.id, "level": "building", "name": " 9号楼 ", "code": "B9"})
    assert resp.status_code == 201, resp.text
    node = resp.json()
    assert node["parent_id"] == world.g1.id and node["level"] == "building" and node["name"] == "9号楼"
    assert node["code"] == "B9" and node["retired_at"] is None
    [entry] = await _audit(db, "grid.create", node["id"])
    assert entry.actor_id == actor and entry.object_type == "grid"

    got = await client.get(f"{API}/grids/{node['id']}", headers=h)
    assert got.status_code == 200 and got.json() == node
    listed = (await client.get(f"{API}/grids", headers=h, params={"parent_id": world.g1.id})).json()
    assert node["id"] in [g["id"] for g in listed["items"]]

    resp = await client.patch(f"{API}/grids/{node['id']}", headers=h, json={"name": "九号楼"})
    assert resp.status_code == 200 and resp.json()["name"] == "九号楼" and resp.json()["code"] == "B9"
    [entry] = await _audit(db, "grid.update", node["id"])
    assert entry.actor_id == actor and entry.details == {"name": "九号楼"}
    # an update that changes nothing writes no audit entry
    assert (await client.patch(f"{API}/grids/{node['id']}", headers=h, json={"name": "九号楼"})).status_code == 200
    assert len(await _audit(db, "grid.update", node["id"])) == 1

    resp = await client.post(f"{API}/grids/{node['id']}/retire", headers=h)
    assert resp.status_code == 200 and resp.json()["retired_at"] is not None
    [entry] = await _audit(db, "grid.retire", node["id"])
    assert entry.actor_id == actor
    # retiring again is a no-op, not a second entry
    assert (await client.post(f"{API}/grids/{node['id']}/retire", headers=h)).status_code == 200
    assert len(await _audit(db, "grid.retire", node["id"])) == 1
    # retired nodes leave the default list, and come back with include_retired
    ids = [g["id"] for g in (await client.get(f"{API}/grids", headers=h)).json()["items"]]
    assert node["id"] not in ids
    ids = [g["id"] for g in (await client.get(f"{API}/grids", headers=h,
                                              params={"include_retired": True})).json()["items"]]
    assert node["id"] in ids


async def test_admin_of_another_community_gets_404_for_its_nodes(client, world, db):
    h = world.headers("admin_c1")
    before = await _snapshot(db)
    for node in (world.c2, world.g2, world.b3, world.street):
        assert_error(await client.get(f"{API}/grids/{node.id}", headers=h), 404, "not_found")
        assert_error(await client.patch(f"{API}/grids/{node.id}", headers=h, json={"name": "x"}), 404, "not_found")
        assert_error(await client.post(f"{API}/grids/{node.id}/retire", headers=h), 404, "not_found")
    # the same answer as for a node that does not exist
    assert_error(await client.get(f"{API}/grids/{2**53}", headers=h), 404, "not_found")
    assert await _snapshot(db) == before
    async with db.session(write=False) as s:
        assert (await s.get(Grid, world.c2.id)).name == "社区二"
        assert (await s.get(Grid, world.b3.id)).retired_at is None


async def test_admin_cannot_add_a_child_outside_scope(client, world, db):
    h = world.headers("admin_c1")
    before = await _snapshot(db)
    assert_error(await client.post(f"{API}/grids", headers=h,
                                   json={"parent_id": world.c2.id, "level": "grid", "name": "x"}),
                 422, "invalid_reference")
    assert_error(await client.post(f"{API}/grids", headers=h,
                                   json={"parent_id": world.street.id, "level": "community", "name": "x"}),
                 422, "invalid_reference")
    assert await _snapshot(db) == before
    # the other community's admin can
    resp = await client.post(f"{API}/grids", headers=world.headers("admin_c2"),
                             json={"parent_id": world.c2.id, "level": "grid", "name": "网格三"})
    assert resp.status_code == 201, resp.text


async def test_admin_cannot_rename_or_retire_its_own_scope_node(client, world, db):
    before = await _snapshot(db)
    for who, node in (("admin_c1", world.c1), ("admin_street", world.street)):
        h = world.headers(who)
        assert (await client.get(f"{API}/grids/{node.id}", headers=h)).status_code == 200  # it may read it
        assert_error(await client.patch(f"{API}/grids/{node.id}", headers=h, json={"name": "改名"}), 403, "forbidden")
        assert_error(await client.post(f"{API}/grids/{node.id}/retire", headers=h), 403, "forbidden")
    assert await _snapshot(db) == before
    # the level above may rename it
    resp = await client.patch(f"{API}/grids/{world.c1.id}", headers=world.headers("admin_street"),
                              json={"name": "社区一（新）"})
    assert resp.status_code == 200 and resp.json()["name"] == "社区一（新）"


async def test_retiring_a_node_with_active_children_is_409(client, world, db):
    h = world.headers("admin_c1")
    assert_error(await client.post(f"{API}/grids/{world.g1.id}/retire", headers=h), 409, "conflict")
    async with db.session(write=False) as s:
        assert (await s.get(Grid, world.g1.id)).retired_at is None
    assert await _audit(db, "grid.retire", world.g1.id) == []
    for b in (world.b1, world.b2):
        assert (await client.post(f"{API}/grids/{b.id}/retire", headers=h)).status_code == 200
    resp = await client.post(f"{API}/grids/{world.g1.id}/retire", headers=h)
    assert resp.status_code == 200 and resp.json()["retired_at"] is not None


async def test_grid_list_shows_scope_only_and_the_cursor_walk_sees_each_once(client, world):
    h = world.headers("admin_c1")
    created = []
    for i in range(5):
        resp = await client.post(f"{API}/grids", headers=h,
                                 json={"parent_id": world.g1.id, "level": "building", "name": f"楼{i}"})
        created.append(resp.json()["id"])
    expected = {world.c1.id, world.g1.id, world.b1.id, world.b2.id, *created}
    ids = await _walk(client, f"{API}/grids", h, limit=2)
    assert len(ids) == len(set(ids)) and set(ids) == expected
    assert await _walk(client, f"{API}/grids", h, limit=100) == ids  # same order, one page
    # filters
    ids = await _walk(client, f"{API}/grids", h, limit=3, level="building")
    assert set(ids) == {world.b1.id, world.b2.id, *created}
    ids = await _walk(client, f"{API}/grids", h, limit=3, q="楼3")
    assert ids == [created[3]]
    # the street admin sees both communities
    ids = await _walk(client, f"{API}/grids", world.headers("admin_street"), limit=4)
    assert {world.street.id, world.c2.id, world.g2.id, world.b3.id} | expected == set(ids)
    # list and detail agree: whatever admin_c2 lists it can read, and nothing of c1 is listed
    h2 = world.headers("admin_c2")
    ids = await _walk(client, f"{API}/grids", h2, limit=2)
    assert set(ids) == {world.c2.id, world.g2.id, world.b3.id}
    for i in ids:
        assert (await client.get(f"{API}/grids/{i}", headers=h2)).status_code == 200


@pytest.mark.parametrize("path", ["grids", "departments", "categories"])
async def test_bad_cursor_and_limit_are_errors_in_the_envelope(client, world, path):
    h = world.headers("admin_street")
    for cursor in ("garbage!", "bm90LWpzb24", "WzEsMl0", "WyJ4Il0", "e30"):  # not base64 json / [1,2] / ["x"] / {}
        assert_error(await client.get(f"{API}/{path}", headers=h, params={"cursor": cursor}), 400, "invalid_cursor")
    assert_error(await client.get(f"{API}/{path}", headers=h, params={"cursor": "x" * 201}), 422)
    for limit in (0, 101, "ten"):
        assert_error(await client.get(f"{API}/{path}", headers=h, params={"limit": limit}), 422, "validation_error")


async def test_grid_bad_input_writes_nothing(client, world, db):
    h = world.headers("admin_street")
    ok = await client.post(f"{API}/grids", headers=h,
                           json={"parent_id": world.g1.id, "level": "building", "name": "x", "code": "TAKEN"})
    assert ok.status_code == 201
    before = await _snapshot(db)
    good = {"parent_id": world.g1.id, "level": "building", "name": "新楼"}
    cases = [
        ({**good, "path": "/1/"}, 422, "validation_error"),                   # unknown field
        ({**good, "retired_at": None}, 422, "validation_error"),
        ({**good, "level": "grid"}, 422, "invalid_parent"),                   # grid under a grid
        ({**good, "parent_id": world.c1.id}, 422, "invalid_parent"),          # building under a community
        ({**good, "level": "street"}, 422, "invalid_parent"),
        ({**good, "level": "county"}, 422, "validation_error"),
        ({**good, "code": "TAKEN"}, 409, "code_taken"),
        ({**good, "code": "has space"}, 422, "validation_error"),
        ({**good, "name": None}, 422, "validation_error"),                    # explicit null, required
        ({**good, "name": "   "}, 422, "validation_error"),
        ({**good, "name": "长" * 101}, 422, "validation_error"),
        ({**good, "parent_id": None}, 422, "validation_error"),
        ({**good, "parent_id": 2**53}, 422, "invalid_reference"),             # no such node
        ({**good, "parent_id": 2**70}, 422, "validation_error"),              # absurd id
        ({**good, "parent_id": -1}, 422, "validation_error"),
        ({**good, "parent_id": "1; drop table grids"}, 422, "validation_error"),
    ]
    for body, status, code in cases:
        assert_error(await client.post(f"{API}/grids", headers=h, json=body), status, code)
    node = world.b1.id
    patches = [
        ({"name": None}, 422, "validation_error"),
        ({"level": "grid"}, 422, "validation_error"),
        ({"parent_id": world.g2.id}, 422, "validation_error"),
        ({"code": "TAKEN"}, 409, "code_taken"),
        ({"name": ""}, 422, "validation_error"),
    ]
    for body, status, code in patches:
        assert_error(await client.patch(f"{API}/grids/{node}", headers=h, json=body), status, code)
    for bad in (2**70, 0, -5, "abc"):
        assert_error(await client.get(f"{API}/grids/{bad}", headers=h), 422, "validation_error")
        assert_error(await client.patch(f"{API}/grids/{bad}", headers=h, json={"name": "x"}), 422)
    assert_error(await client.patch(f"{API}/grids/{2**53}", headers=h, json={"name": "x"}), 404, "not_found")
    assert_error(await client.post(f"{API}/grids/{2**53}/retire", headers=h), 404, "not_found")
    assert await _snapshot(db) == before
    async with db.session(write=False) as s:
        b1 = await s.get(Grid, node)
        assert b1.name == "1号楼" and b1.code is None and b1.level == "building" and b1.parent_id == world.g1.id


async def test_adding_under_a_retired_parent_is_refused(client, world, db):
    h = world.headers("admin_c1")
    assert (await client.post(f"{API}/grids/{world.b1.id}/retire", headers=h)).status_code == 200
    assert (await client.post(f"{API}/grids/{world.b2.id}/retire", headers=h)).status_code == 200
    assert (await client.post(f"{API}/grids/{world.g1.id}/retire", headers=h)).status_code == 200
    before = await _snapshot(db)
    assert_error(await client.post(f"{API}/grids", headers=h,
                                   json={"parent_id": world.g1.id, "level": "building", "name": "x"}),
                 422, "invalid_parent")
    assert await _snapshot(db) == before


# ---- departments ------------------------------------------------------------------------------------------------


async def test_department_create_list_get_update_retire_inside_scope_with_audit(client, world, db):
    h = world.headers("admin_c1")
    actor = world.users["admin_c1"].id
    resp = await client.post(f"{API}/departments", headers=h,
                             json={"grid_id": world.c1.id, "name": "社区一物业", "code": "c1-pm", "phone": "010-1234"})
    assert resp.status_code == 201, resp.text
    dept = resp.json()
    assert dept["grid_id"] == world.c1.id and dept["code"] == "c1-pm" and dept["phone"] == "010-1234"
    [entry] = await _audit(db, "department.create", dept["id"])
    assert entry.actor_id == actor and entry.object_type == "department"

    assert (await client.get(f"{API}/departments/{dept['id']}", headers=h)).json() == dept
    assert [d["id"] for d in (await client.get(f"{API}/departments", headers=h)).json()["items"]] == [dept["id"]]

    resp = await client.patch(f"{API}/departments/{dept['id']}", headers=h, json={"name": "物业公司", "phone": None})
    assert resp.status_code == 200 and resp.json()["name"] == "物业公司" and resp.json()["phone"] is None
    [entry] = await _audit(db, "department.update", dept["id"])
    assert entry.details == {"name": "物业公司", "phone": None}

    resp = await client.post(f"{API}/departments/{dept['id']}/retire", headers=h)
    assert resp.status_code == 200 and resp.json()["retired_at"] is not None
    assert len(await _audit(db, "department.retire", dept["id"])) == 1
    assert (await client.get(f"{API}/departments", headers=h)).json()["items"] == []


async def test_admin_of_another_community_gets_404_for_its_departments(client, world, db):
    h = world.headers("admin_c1")
    before = await _snapshot(db)
    for dept in (world.d2, world.d1):  # d2 belongs to c2, d1 to the street above
        assert_error(await client.get(f"{API}/departments/{dept.id}", headers=h), 404, "not_found")
        assert_error(await client.patch(f"{API}/departments/{dept.id}", headers=h, json={"name": "x"}), 404)
        assert_error(await client.post(f"{API}/departments/{dept.id}/retire", headers=h), 404, "not_found")
    assert_error(await client.post(f"{API}/departments", headers=h,
                                   json={"grid_id": world.c2.id, "name": "x", "code": "x"}), 422, "invalid_reference")
    assert await _snapshot(db) == before
    assert (await client.get(f"{API}/departments", headers=h)).json()["items"] == []
    # admin_c2 sees its own, the street admin sees both
    assert [d["id"] for d in (await client.get(f"{API}/departments",
                                                headers=world.headers("admin_c2"))).json()["items"]] == [world.d2.id]
    ids = await _walk(client, f"{API}/departments", world.headers("admin_street"), limit=1)
    assert sorted(ids) == sorted([world.d1.id, world.d2.id])


async def test_department_list_pages_and_bad_input(client, world, db):
    h = world.headers("admin_street")
    made = []
    for i in range(5):
        resp = await client.post(f"{API}/departments", headers=h,
                                 json={"grid_id": world.street.id, "name": f"部门{i}", "code": f"dep{i}"})
        assert resp.status_code == 201, resp.text
        made.append(resp.json()["id"])
    ids = await _walk(client, f"{API}/departments", h, limit=2)
    assert len(ids) == len(set(ids)) == 7 and set(ids) == {world.d1.id, world.d2.id, *made}
    assert await _walk(client, f"{API}/departments", h, limit=2, q="部门4") == [made[4]]

    before = await _snapshot(db)
    good = {"grid_id": world.street.id, "name": "新部门", "code": "new-dep"}
    cases = [
        ({**good, "id": 1}, 422, "validation_error"),
        ({**good, "retired_at": None}, 422, "validation_error"),
        ({**good, "code": "d1"}, 409, "code_taken"),
        ({**good, "code": None}, 422, "validation_error"),
        ({**good, "name": None}, 422, "validation_error"),
        ({**good, "phone": "call me"}, 422, "validation_error"),
        ({**good, "grid_id": 2**53}, 422, "invalid_reference"),
        ({**good, "grid_id": 2**64}, 422, "validation_error"),
    ]
    for body, status, code in cases:
        assert_error(await client.post(f"{API}/departments", headers=h, json=body), status, code)
    for body in ({"code": "other"}, {"grid_id": world.c1.id}, {"name": None}, {"phone": "x"}):
        assert_error(await client.patch(f"{API}/departments/{world.d1.id}", headers=h, json=body), 422)
    assert_error(await client.get(f"{API}/departments/{2**63}", headers=h), 422)
    assert_error(await client.get(f"{API}/departments/{2**53}", headers=h), 404, "not_found")
    assert await _snapshot(db) == before


# ---- categories -------------------------------------------------------------------------------------------------


async def test_category_create_list_get_update_retire_inside_scope_with_audit(client, world, db):
    h = world.headers("admin_c2")
    actor = world.users["admin_c2"].id
    body = {"grid_id": world.c2.id, "name": "物业服务", "code": "c2-pm", "default_department_id": world.d2.id,
            "respond_within_minutes": 60, "resolve_within_minutes": 7 * 24 * 60}
    resp = await client.post(f"{API}/categories", headers=h, json=body)
    assert resp.status_code == 201, resp.text
    cat = resp.json()
    assert {k: cat[k] for k in body} == body
    [entry] = await _audit(db, "category.create", cat["id"])
    assert entry.actor_id == actor and entry.object_type == "category"

    assert (await client.get(f"{API}/categories/{cat['id']}", headers=h)).json() == cat
    assert [c["id"] for c in (await client.get(f"{API}/categories", headers=h)).json()["items"]] == [cat["id"]]

    resp = await client.patch(f"{API}/categories/{cat['id']}", headers=h,
                              json={"respond_within_minutes": 120, "default_department_id": None})
    assert resp.status_code == 200, resp.text
    assert resp.json()["respond_within_minutes"] == 120 and resp.json()["default_department_id"] is None
    [entry] = await _audit(db, "category.update", cat["id"])
    assert entry.details == {"respond_within_minutes": 120, "default_department_id": None}

    resp = await client.post(f"{API}/categories/{cat['id']}/retire", headers=h)
    assert resp.status_code == 200 and resp.json()["retired_at"] is not None
    assert len(await _audit(db, "category.retire", cat["id"])) == 1


async def test_admin_of_another_community_gets_404_for_its_categories(client, world, db):
    h2 = world.headers("admin_c2")
    resp = await client.post(f"{API}/categories", headers=h2,
                             json={"grid_id": world.c2.id, "name": "c2", "code": "c2-cat",
                                   "respond_within_minutes": 60, "resolve_within_minutes": 600})
    c2_cat = resp.json()["id"]
    h = world.headers("admin_c1")
    before = await _snapshot(db)
    for cat in (c2_cat, world.cat.id):
        assert_error(await client.get(f"{API}/categories/{cat}", headers=h), 404, "not_found")
        assert_error(await client.patch(f"{API}/categories/{cat}", headers=h, json={"name": "x"}), 404)
        assert_error(await client.post(f"{API}/categories/{cat}/retire", headers=h), 404, "not_found")
    minimal = {"name": "x", "code": "x", "respond_within_minutes": 1, "resolve_within_minutes": 1}
    assert_error(await client.post(f"{API}/categories", headers=h, json={**minimal, "grid_id": world.c2.id}),
                 422, "invalid_reference")
    # a category of c1 may not default to a department it cannot see
    assert_error(await client.post(f"{API}/categories", headers=h,
                                   json={**minimal, "grid_id": world.c1.id, "default_department_id": world.d2.id}),
                 422, "invalid_reference")
    assert await _snapshot(db) == before
    assert (await client.get(f"{API}/categories", headers=h)).json()["items"] == []
    ids = await _walk(client, f"{API}/categories", world.headers("admin_street"), limit=1)
    assert sorted(ids) == sorted([world.cat.id, c2_cat])


async def test_category_bad_input_writes_nothing(client, world, db):
    h = world.headers("admin_street")
    retired = await client.post(f"{API}/departments", headers=h,
                                json={"grid_id": world.street.id, "name": "old", "code": "old"})
    await client.post(f"{API}/departments/{retired.json()['id']}/retire", headers=h)
    before = await _snapshot(db)
    good = {"grid_id": world.street.id, "name": "新分类", "code": "new-cat",
            "respond_within_minutes": 60, "resolve_within_minutes": 600}
    cases = [
        ({**good, "state": "x"}, 422, "validation_error"),
        ({**good, "code": "sanitation"}, 409, "code_taken"),
        ({**good, "respond_within_minutes": 0}, 422, "validation_error"),
        ({**good, "resolve_within_minutes": 10**9}, 422, "validation_error"),
        ({**good, "respond_within_minutes": None}, 422, "validation_error"),
        ({k: v for k, v in good.items() if k != "resolve_within_minutes"}, 422, "validation_error"),
        ({**good, "default_department_id": retired.json()["id"]}, 422, "invalid_reference"),
        ({**good, "default_department_id": 2**53}, 422, "invalid_reference"),
        ({**good, "default_department_id": 2**60}, 422, "validation_error"),
        ({**good, "grid_id": 2**53}, 422, "invalid_reference"),
    ]
    for body, status, code in cases:
        assert_error(await client.post(f"{API}/categories", headers=h, json=body), status, code)
    cat = world.cat.id
    for body in ({"name": None}, {"respond_within_minutes": None}, {"resolve_within_minutes": None},
                 {"code": "other"}, {"default_department_id": 2**53}, {"respond_within_minutes": -1}):
        resp = await client.patch(f"{API}/categories/{cat}", headers=h, json=body)
        assert_error(resp, 422)
    assert await _snapshot(db) == before
    async with db.session(write=False) as s:
        row = await s.get(Category, cat)
        assert (row.name, row.respond_within_minutes, row.default_department_id) == ("环境卫生", 24 * 60, world.d1.id)


# ---- public places ----------------------------------------------------------------------------------------------


async def test_places_is_public_and_lists_only_active_nodes(client, world):
    resp = await client.get("/api/v1/places")
    assert resp.status_code == 200, resp.text
    assert [p["id"] for p in resp.json()["items"]] == [world.street.id]
    assert set(resp.json()["items"][0]) == {"id", "parent_id", "level", "name"}  # no path, code, timestamps
    children = (await client.get("/api/v1/places", params={"parent_id": world.street.id})).json()["items"]
    assert {p["id"] for p in children} == {world.c1.id, world.c2.id}

    h = world.headers("admin_c1")
    assert (await client.post(f"{API}/grids/{world.b2.id}/retire", headers=h)).status_code == 200
    buildings = (await client.get("/api/v1/places", params={"parent_id": world.g1.id})).json()["items"]
    assert [p["id"] for p in buildings] == [world.b1.id]
    ids = []
    cursor = None
    while True:
        page = (await client.get("/api/v1/places", params={"level": "building", "limit": 1,
                                                            **({"cursor": cursor} if cursor else {})})).json()
        ids += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(ids) == sorted([world.b1.id, world.b3.id])
    assert_error(await client.get("/api/v1/places", params={"cursor": "garbage"}), 400, "invalid_cursor")
    assert_error(await client.get("/api/v1/places", params={"parent_id": 2**70}), 422, "validation_error")


async def test_cursor_with_an_out_of_range_id_is_400(client, world):
    resp = await client.get(f"{API}/grids", headers=world.headers("admin_street"),
                            params={"cursor": encode_cursor([2**64])})
    assert_error(resp, 400, "invalid_cursor")

"""What each user may pick: categories for the report form, departments for dispatch."""

from __future__ import annotations

from app.org.models import Category, Department
from tests.helpers import assert_error


async def test_categories_and_departments_on_my_path(client, app, world):
    async with app.state.db.session(write=True) as s:
        s.add(Category(grid_id=world.c2.id, name="社区二专属", code="c2-only", respond_within_minutes=60,
                       resolve_within_minutes=600))
        s.add(Department(grid_id=world.c1.id, name="社区一物业", code="c1-wuye"))
    names = lambda resp: sorted(x["name"] for x in resp.json())  # noqa: E731
    assert names(await client.get("/api/v1/categories", headers=world.headers("resident_a"))) == ["环境卫生"]
    assert names(await client.get("/api/v1/categories", headers=world.headers("resident_c"))) == [
        "环境卫生", "社区二专属"]
    assert names(await client.get("/api/v1/departments", headers=world.headers("worker_in"))) == [
        "城管", "社区一物业"]
    assert names(await client.get("/api/v1/departments", headers=world.headers("worker_out"))) == [
        "城管", "社区二物业"]
    assert names(await client.get("/api/v1/departments", headers=world.headers("admin_street"))) == [
        "城管", "社区一物业", "社区二物业"]
    assert_error(await client.get("/api/v1/categories"), 401)

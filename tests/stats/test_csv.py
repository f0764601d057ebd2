"""GET /api/v1/stats/reports.csv: the reports of the set with their figures, streamed, naming nobody."""

from __future__ import annotations

import csv
import io

from app.auth.deps import load_principal
from app.stats import service
from tests.helpers import assert_error
from tests.stats.conftest import MARCH
from tests.stats.factories import add_department, put_report

URL = "/api/v1/stats/reports.csv"
HEADER = ["number", "created_at", "category", "state", "community", "grid", "department", "respond_by",
          "responded_at", "accepted_at", "resolved_at", "closed_at", "overdue", "rating", "reopen_count",
          "auto_closed"]
IN_C1 = ("R11", "R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "R9", "R10", "R16", "R17", "R14")  # by created_at


async def _csv(client, world, who="admin_c1", **params) -> list[dict[str, str]]:
    resp = await client.get(URL, headers=world.headers(who), params={**MARCH, **params})
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "text/csv; charset=utf-8"
    assert resp.headers["content-disposition"] == 'attachment; filename="reports-20260301-20260401.csv"'
    assert resp.content.startswith("\ufeff".encode())  # the BOM: Excel reads UTF-8
    text = resp.content.decode("utf-8")[1:]
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == HEADER
    return [dict(zip(HEADER, r, strict=True)) for r in rows[1:]]


async def test_rows_of_my_scope_with_their_figures(client, world, march):
    rows = await _csv(client, world)
    assert [r["number"] for r in rows] == [march[n].number for n in IN_C1]
    r1 = rows[1]
    assert r1 == {"number": march["R1"].number, "created_at": "2026-03-01T23:59:00+08:00", "category": "环境卫生",
                  "state": "closed", "community": "社区一", "grid": "网格一", "department": "城管",
                  "respond_by": "2026-03-02T23:59:00+08:00", "responded_at": "2026-03-02T00:59:00+08:00",
                  "accepted_at": "2026-03-02T00:59:00+08:00", "resolved_at": "2026-03-02T09:59:00+08:00",
                  "closed_at": "2026-03-02T10:59:00+08:00", "overdue": "false", "rating": "5", "reopen_count": "0",
                  "auto_closed": "false"}
    by_number = {r["number"]: r for r in rows}
    assert by_number[march["R3"].number]["category"] == "邻里纠纷"
    assert by_number[march["R3"].number]["department"] == "" and by_number[march["R3"].number]["rating"] == ""
    assert by_number[march["R4"].number]["reopen_count"] == "1"
    assert by_number[march["R5"].number]["overdue"] == "true" and by_number[march["R7"].number]["overdue"] == "true"
    assert by_number[march["R6"].number]["overdue"] == "false"
    assert by_number[march["R8"].number]["auto_closed"] == "true"
    street = await _csv(client, world, "admin_street")
    assert len(street) == 15 and march["R15"].number in {r["number"] for r in street}
    assert [r["number"] for r in await _csv(client, world, department_id=world.d1.id)] == [
        march[n].number for n in ("R1", "R4", "R7", "R8", "R9", "R16", "R17")]


async def test_no_person_in_the_file(client, world, march):
    resp = await client.get(URL, headers=world.headers("admin_street"), params=MARCH)
    text = resp.content.decode("utf-8")
    for user in world.users.values():
        assert user.display_name not in text and user.phone not in text
    assert "手工构造的报事" not in text  # titles are residents' words: not exported either


async def test_refused_and_checked_like_the_figures(client, world, march):
    for who in ("resident_a", "worker_in", "dept_in"):
        assert_error(await client.get(URL, headers=world.headers(who), params=MARCH), 403)
    h = world.headers("admin_c1")
    assert_error(await client.get(URL, headers=h, params={**MARCH, "grid_id": world.g2.id}), 404)
    assert_error(await client.get(URL, headers=h, params={"from": "2025-01-01T00:00:00Z",
                                                          "to": "2026-03-01T00:00:00Z"}), 422, "invalid_period")


async def test_text_a_spreadsheet_would_run_is_defused(app, client, world):
    bad = await add_department(app, world, "=HYPERLINK(\"http://x\")", "formula")
    await put_report(app, world, created="2026-03-05T00:00:00Z", state="dispatched", accepted=1, handler=bad)
    rows = await _csv(client, world)
    assert rows[0]["department"] == "'=HYPERLINK(\"http://x\")"


async def test_the_body_is_streamed_in_partitions(app, world, march):
    """The generator reads through a stream in partitions and yields one chunk each: header, then 14 rows by 4."""
    async with app.state.db.session(write=False) as s:
        p = await load_principal(s, world.users["admin_c1"].id)
        stmt, _ = await service.prepare_csv(s, p, service.StatsQuery())  # the last 30 days
    chunks = [c async for c in service.csv_chunks(app.state.db, stmt, chunk_rows=4)]
    assert chunks[0] == "\ufeff".encode() + (",".join(HEADER) + "\r\n").encode()
    assert len(chunks) == 1  # nothing in the last 30 days: the header alone
    async with app.state.db.session(write=False) as s:
        stmt, _ = await service.prepare_csv(s, p, service.StatsQuery(
            start=march["R11"].created_at, end=march["R13"].created_at))
    chunks = [c async for c in service.csv_chunks(app.state.db, stmt, chunk_rows=4)]
    assert [c.count(b"\r\n") for c in chunks] == [1, 4, 4, 4, 2]

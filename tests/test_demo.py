"""The demo community loads once, with one account per role that can log in, and a few reports."""

from __future__ import annotations

from app.demo import seed


async def test_demo_seed_loads_once_and_accounts_log_in(client, app, settings):
    async with app.state.db.session(write=True) as s:
        accounts = await seed(s, settings)
    assert {a.role for a in accounts} == {"resident", "grid_worker", "department", "admin"}
    async with app.state.db.session(write=True) as s:
        assert await seed(s, settings) is None  # not twice
    for a in accounts:
        resp = await client.post("/api/v1/auth/token", data={"username": a.phone, "password": a.password})
        assert resp.status_code == 200, (a, resp.text)
    worker = next(a for a in accounts if a.role == "grid_worker")
    token = (await client.post("/api/v1/auth/token", data={"username": worker.phone, "password": worker.password}))
    counts = (await client.get("/api/v1/reports/counts",
                               headers={"Authorization": f"Bearer {token.json()['access_token']}"})).json()
    assert counts["total"] == 2 and counts["counts"]["resolved"] == 1


async def test_a_second_run_finds_the_same_accounts(app, settings):
    from app.demo import ACCOUNTS, existing_accounts

    async with app.state.db.session(write=True) as s:
        assert await existing_accounts(s) == []
        await seed(s, settings)
    async with app.state.db.session(write=False) as s:
        assert await existing_accounts(s) == list(ACCOUNTS)

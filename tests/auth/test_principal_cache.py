"""The per-process principal cache: what it keeps and when it must forget, and (PostgreSQL) the triggers and
the listener that tell every process of a change at commit."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, text, update

from app.auth.principal_cache import PrincipalCache, principal_listener
from app.users.models import User, UserGrid
from tests.factories import PASSWORD

ROWS = ("a row",)


def _enabled(size: int = 3) -> PrincipalCache:
    cache = PrincipalCache(size)
    cache.enable()
    return cache


def test_off_until_enabled_and_after_disable():
    cache = PrincipalCache(10)
    cache.put(1, ROWS, cache.generation)
    assert cache.get(1) is None
    cache.enable()
    cache.put(1, ROWS, cache.generation)
    assert cache.get(1) == ROWS
    cache.disable()
    assert cache.get(1) is None
    cache.put(1, ROWS, cache.generation)
    assert cache.get(1) is None


def test_size_zero_never_stores():
    cache = _enabled(0)
    cache.put(1, ROWS, cache.generation)
    assert cache.get(1) is None and not cache.enabled


def test_a_read_overtaken_by_a_notice_is_not_kept():
    cache = _enabled()
    before = cache.generation
    cache.forget("99")  # a change to anyone, noticed while user 1's row was being read
    cache.put(1, ROWS, before)
    assert cache.get(1) is None
    cache.put(1, ROWS, cache.generation)
    assert cache.get(1) == ROWS


def test_forget_one_or_all():
    cache = _enabled()
    for uid in (1, 2):
        cache.put(uid, ROWS, cache.generation)
    cache.forget("1")
    assert cache.get(1) is None and cache.get(2) == ROWS
    cache.forget("*")
    assert cache.get(2) is None and len(cache) == 0


def test_grid_nodes_are_forgotten_on_every_grid_notice_not_on_a_users():
    cache = _enabled()
    cache.put_node(7, ROWS, cache.generation)
    cache.forget("1")  # one user changed: the nodes stand
    assert cache.node(7) == ROWS
    cache.forget("*")  # a grid changed (or anything else than one user)
    assert cache.node(7) is None
    before = cache.generation
    cache.forget("*")  # noticed while node 7 was being read
    cache.put_node(7, ROWS, before)
    assert cache.node(7) is None
    cache.put_node(7, ROWS, cache.generation)
    cache.disable()
    assert cache.node(7) is None
    cache.put_node(7, ROWS, cache.generation)  # off: nothing kept
    assert cache.node(7) is None


def test_grid_nodes_are_bounded():
    cache = _enabled(2)
    for grid_id in (1, 2, 3):
        cache.put_node(grid_id, ROWS, cache.generation)
    assert cache.node(3) == ROWS and sum(cache.node(g) is not None for g in (1, 2, 3)) <= 2


def test_least_recently_used_goes_first():
    cache = _enabled(2)
    cache.put(1, ROWS, cache.generation)
    cache.put(2, ROWS, cache.generation)
    cache.get(1)
    cache.put(3, ROWS, cache.generation)
    assert cache.get(2) is None and cache.get(1) == ROWS and cache.get(3) == ROWS


def test_no_listener_on_sqlite(settings):
    if settings.database_url.startswith("sqlite"):
        assert principal_listener(settings, PrincipalCache(10)) is None
    else:
        assert principal_listener(settings.model_copy(update={"principal_cache_size": 0}), PrincipalCache(0)) is None


# ---- PostgreSQL: triggers and listener ------------------------------------------------------------------


@pytest.fixture
async def listening(app, settings):
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("NOTIFY is PostgreSQL's; on SQLite the cache stays off (test_no_listener_on_sqlite)")
    listener = principal_listener(settings, app.state.principals)
    listener.retry = listener.ping = 0.1
    await listener.start()
    await asyncio.wait_for(listener.listening.wait(), 5)
    yield listener
    await listener.stop()


async def _until(predicate, seconds: float = 5.0) -> bool:
    for _ in range(int(seconds / 0.02)):
        if await predicate():
            return True
        await asyncio.sleep(0.02)
    return False


async def _cached(app, user: User) -> bool:
    return app.state.principals.get(user.id) is not None


async def test_deactivation_elsewhere_refuses_at_once(app, client, world, db, listening):
    user = world.users["resident_a"]
    assert (await client.get("/api/v1/me", headers=world.headers(user))).status_code == 200
    assert await _cached(app, user)  # the next request would not read the user row
    async with db.session(write=True) as s:  # as an admin in another worker process would
        await s.execute(update(User).where(User.id == user.id).values(is_active=False))

    async def refused() -> bool:
        return (await client.get("/api/v1/me", headers=world.headers(user))).status_code == 401
    assert await _until(refused, 2.0)


@pytest.mark.parametrize("change", ["password", "grid binding", "grid moved", "user deleted"])
async def test_each_change_of_a_principal_is_heard(app, client, world, db, listening, change):
    user = world.users["worker_in"]
    assert (await client.get("/api/v1/me", headers=world.headers(user))).status_code == 200
    assert await _cached(app, user)
    async with db.session(write=True) as s:
        if change == "password":
            await s.execute(update(User).where(User.id == user.id).values(password_changed_at=text("now()")))
        elif change == "grid binding":
            await s.execute(delete(UserGrid).where(UserGrid.user_id == user.id))
        elif change == "grid moved":
            await s.execute(text("UPDATE grids SET path = path WHERE id = :g"), {"g": world.g2.id})
        else:
            await s.execute(delete(UserGrid).where(UserGrid.user_id == user.id))
            await s.execute(delete(User).where(User.id == user.id))

    async def forgotten() -> bool:
        return not await _cached(app, user)
    assert await _until(forgotten, 2.0)


async def test_a_display_name_change_keeps_the_entry(app, client, world, db, listening):
    user = world.users["resident_a"]
    await client.get("/api/v1/me", headers=world.headers(user))
    async with db.session(write=True) as s:
        await s.execute(update(User).where(User.id == user.id).values(display_name="新名字"))
    await asyncio.sleep(0.3)
    assert await _cached(app, user)


async def test_a_lost_listener_turns_the_cache_off_until_it_is_back(app, client, world, db, listening):
    user = world.users["resident_a"]
    await client.get("/api/v1/me", headers=world.headers(user))
    assert await _cached(app, user)
    async with db.session(write=True) as s:
        # this database's listener only: other test runs may share the server
        killed = (await s.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                       "WHERE application_name = 'weilinli-principals' "
                                       "AND datname = current_database()"))).scalars().all()
    assert killed == [True]

    async def forgotten() -> bool:  # emptied when the loss is noticed (and again when LISTEN is back)
        return not await _cached(app, user)
    assert await _until(forgotten, 2.0)
    await asyncio.wait_for(listening.listening.wait(), 5)  # reconnected
    assert app.state.principals.enabled
    await client.get("/api/v1/me", headers=world.headers(user))
    assert await _cached(app, user)


async def test_a_session_revoked_elsewhere_ends_its_cached_access_token_at_once(app, client, world, db, listening):
    """Issue 13, item 8: the cache is keyed by (user, session); revoking the session notifies every process."""
    from app.auth.models import RefreshToken

    user = world.users["resident_a"]
    tokens = (await client.post("/api/v1/auth/token", data={"username": user.phone, "password": PASSWORD})).json()
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await client.get("/api/v1/me", headers=auth)).status_code == 200
    assert len(app.state.principals) == 1  # cached, with its session
    async with db.session(write=True) as s:  # as a logout in another worker process would
        await s.execute(update(RefreshToken).where(RefreshToken.user_id == user.id)
                        .values(revoked_at=datetime.now(UTC)))

    async def refused() -> bool:
        return (await client.get("/api/v1/me", headers=auth)).status_code == 401

    assert await _until(refused)


@pytest.mark.parametrize("change", ["renamed", "moved", "another renamed"])
async def test_a_remembered_grid_node_is_forgotten_when_it_changes(app, world, db, listening, change):
    """The figures' grid nodes (stats.queries.grid_node): read once, then remembered, until the grids trigger says
    one changed (its name too: migration a7c9e1b3d5f6)."""
    from app.stats import queries

    reader = app.state.db.reader
    node = await queries.grid_node(reader, world.c2.id)
    assert node is not None and app.state.principals.node(world.c2.id) is node
    assert await queries.grid_node(reader, world.c2.id) is node  # from memory
    async with db.session(write=True) as s:  # as an admin in another worker process would
        if change == "renamed":
            await s.execute(text("UPDATE grids SET name = '新名字' WHERE id = :g"), {"g": world.c2.id})
        elif change == "moved":
            await s.execute(text("UPDATE grids SET path = path WHERE id = :g"), {"g": world.c2.id})
        else:
            await s.execute(text("UPDATE grids SET name = '3号楼乙' WHERE id = :g"), {"g": world.b3.id})

    async def forgotten() -> bool:
        return app.state.principals.node(world.c2.id) is None
    assert await _until(forgotten, 2.0)
    again = await queries.grid_node(reader, world.c2.id)
    assert again is not None and again["name"] == ("新名字" if change == "renamed" else node["name"])


async def test_a_community_renamed_elsewhere_is_shown_by_the_next_dashboard(app, client, world, db, listening):
    user = world.users["resident_a"]
    first = await client.get("/api/v1/stats/community", headers=world.headers(user))
    assert first.status_code == 200, first.text
    assert app.state.principals.node(world.c1.id) is not None
    async with db.session(write=True) as s:
        await s.execute(text("UPDATE grids SET name = '改名社区' WHERE id = :g"), {"g": world.c1.id})

    async def renamed() -> bool:
        got = await client.get("/api/v1/stats/community", headers=world.headers(user))
        return got.json()["community"]["name"] == "改名社区"
    assert await _until(renamed, 2.0)

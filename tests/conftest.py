"""Test harness.

TEST_DATABASE_URL picks the database (default: a temporary SQLite file). The schema comes from the Alembic
migrations, applied once per session. Each test starts from empty tables: rows are deleted after each test,
so tests (including concurrency tests on separate connections) never see each other's data.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from app.core.config import Env, Settings
from app.db import migrate
from app.db.models import Base
from app.main import create_app
from tests.factories import World, build_world
from tests.support import fake_providers

JWT_SECRET = "test-secret-" + "s" * 40


def _database_url(tmp_root: Path) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    return url or f"sqlite+aiosqlite:///{tmp_root / 'weilinli-test.db'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = _database_url(tmp_path_factory.mktemp("db"))
    migrate.downgrade(url, "base")  # a database left by an aborted run starts over
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        weilinli_env=Env.test, database_url=database_url, jwt_secret=JWT_SECRET,
        password_time_cost=1, password_memory_kib=64,
        upload_dir=tmp_path_factory.mktemp("uploads"), log_json=True, log_level="WARNING",
        login_max_failures=5, login_lockout_seconds=900,
        webhook_allow_private=True,  # the tests' webhook receivers listen on loopback
        # issue 18: WeChat is the fake on loopback (tests/support/fake_providers.py), never the real one
        wechat_api_url=fake_providers.shared().base + "/wx",
        wechat_app_secrets={fake_providers.WX_APPID: fake_providers.WX_SECRET},
    )


@pytest.fixture(scope="session")
async def app(settings: Settings):
    application = create_app(settings)
    yield application
    await application.state.db.dispose()


@pytest.fixture(autouse=True)
async def _clean_tables(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    yield
    if "app" not in request.fixturenames:
        return
    application = request.getfixturevalue("app")
    async with application.state.db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # the insert-only trails' triggers do not fire for this cleanup
            await conn.execute(text("SET LOCAL session_replication_role = replica"))
        for table in reversed(Base.metadata.sorted_tables):
            await conn.execute(table.delete())


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


@pytest.fixture
async def db(app):
    """A session for arranging data directly; committed on exit of each `async with db.session()` block."""
    return app.state.db


@pytest.fixture
async def world(app, settings) -> World:
    async with app.state.db.session(write=True) as session:
        return await build_world(session, settings)

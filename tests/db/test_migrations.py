"""The migrations and the models agree, and the migrations run down and up again."""

from __future__ import annotations

import asyncio
import pprint
import uuid
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from app.core.config import Settings
from app.db import migrate
from app.db.models import Base
from app.db.session import make_engine


def _settings() -> Settings:
    return Settings(jwt_secret="x" * 40)


async def _differences(url: str) -> list:
    engine = make_engine(_settings(), url)
    try:
        async with engine.connect() as conn:
            def compare(sync_conn):
                is_sqlite = sync_conn.dialect.name == "sqlite"
                ctx = MigrationContext.configure(sync_conn, opts={
                    "compare_type": True, "render_as_batch": is_sqlite, "target_metadata": Base.metadata})
                return compare_metadata(ctx, Base.metadata)

            return await conn.run_sync(compare)
    finally:
        await engine.dispose()


async def _tables(url: str) -> set[str]:
    engine = make_engine(_settings(), url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def test_models_and_migrations_agree(database_url):
    diff = await _differences(database_url)
    assert diff == [], ("the models differ from the migrations; write a migration "
                        "(alembic revision --autogenerate -m ...):\n" + pprint.pformat(diff))


async def _scratch_postgres(url: str):
    """Create `<name>_mig` next to the test database (through the `postgres` database) and return its URL."""
    base = make_url(url)
    scratch = f"{base.database}_mig"
    admin = make_engine(_settings(), base.set(database="postgres").render_as_string(hide_password=False),
                        isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        await conn.execute(text(f'CREATE DATABASE "{scratch}"'))
    await admin.dispose()
    return base.set(database=scratch).render_as_string(hide_password=False), scratch


async def _drop_postgres(url: str, scratch: str) -> None:
    admin = make_engine(_settings(), make_url(url).set(database="postgres").render_as_string(hide_password=False),
                        isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
    await admin.dispose()


async def test_upgrade_downgrade_upgrade_on_a_scratch_database(database_url, tmp_path: Path):
    if database_url.startswith("postgresql"):
        url, scratch = await _scratch_postgres(database_url)
    else:
        url, scratch = f"sqlite+aiosqlite:///{tmp_path / f'mig-{uuid.uuid4().hex}.db'}", None
    expected = {t.name for t in Base.metadata.sorted_tables}
    try:
        # alembic's env.py calls asyncio.run: run it on a thread, away from the test's event loop
        await asyncio.to_thread(migrate.upgrade, url)
        assert expected <= await _tables(url)
        await asyncio.to_thread(migrate.downgrade, url, "base")
        assert await _tables(url) <= {"alembic_version"}
        await asyncio.to_thread(migrate.upgrade, url)
        assert expected <= await _tables(url)
        assert await _differences(url) == []
    finally:
        if scratch:
            await _drop_postgres(database_url, scratch)

"""Run Alembic from code (CLI, demo, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

import app


def alembic_config(database_url: str | None = None) -> Config:
    """alembic.ini from the source tree, or the current directory (a non-editable install)."""
    candidates = [Path(app.__file__).resolve().parent.parent, Path.cwd()]
    for root in candidates:
        if (root / "alembic.ini").exists() and (root / "migrations").is_dir():
            cfg = Config(str(root / "alembic.ini"))
            cfg.set_main_option("script_location", str(root / "migrations"))
            if database_url:
                cfg.attributes["database_url"] = database_url
            return cfg
    raise SystemExit("alembic.ini and migrations/ not found: run from the repository root")


def upgrade(database_url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)

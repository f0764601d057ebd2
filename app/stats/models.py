"""Roll-ups of the report figures (issue 20): counters per cell and duration histograms per cell, a row per
CHUNK buckets (rollup_math.chunked).

A cell is (cut, street, community, grid, category, department, grain, day): see app/stats/rollup_math.py. The
key columns are never NULL (0 stands for "every" in a cut, and for "no department"), because they are the
upserts' conflict target; so they have no foreign keys either. Kept in the same transaction as every step
(app/stats/rollups.py), rebuilt by `weilinli rollups rebuild`. Core tables: nothing reads them through the ORM.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, Integer, PrimaryKeyConstraint, SmallInteger, Table, text

from app.db.base import Base, IdType
from app.stats.rollup_math import BUCKETS, COUNTERS, PRIMARY_KEY


def _key_columns() -> list[Column]:
    return [Column("cut", SmallInteger, nullable=False), Column("street_id", IdType, nullable=False),
            Column("community_id", IdType, nullable=False), Column("grid_id", IdType, nullable=False),
            Column("category_id", IdType, nullable=False), Column("department_id", IdType, nullable=False),
            Column("slot", SmallInteger, nullable=False, server_default=text("0")),  # rollup_math.SLOTS
            Column("grain", SmallInteger, nullable=False), Column("day", Date, nullable=False)]


report_rollups = Table(
    "report_rollups", Base.metadata, *_key_columns(),
    *(Column(name, BigInteger if name.endswith("_ms") else Integer, nullable=False, server_default=text("0"))
      for name in COUNTERS),
    PrimaryKeyConstraint(*PRIMARY_KEY, name="pk_report_rollups"))

report_rollup_histograms = Table(
    "report_rollup_histograms", Base.metadata, *_key_columns(),
    Column("metric", SmallInteger, nullable=False),   # rollup_math.ACCEPT or RESOLVE
    Column("chunk", SmallInteger, nullable=False),    # rollup_math.bucket_of // CHUNK
    *(Column(b, Integer, nullable=False, server_default=text("0")) for b in BUCKETS),  # bucket chunk * CHUNK + k
    PrimaryKeyConstraint(*PRIMARY_KEY, "metric", "chunk", name="pk_report_rollup_histograms"))

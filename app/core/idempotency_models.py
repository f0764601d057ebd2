"""The idempotency record of a creating POST (issue 18): the first answer to a key, kept for 24 hours."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, IdMixin, JsonType, UTCDateTime


class IdempotencyRecord(Base, IdMixin):
    """One `Idempotency-Key` of one caller. Inserted as the first write of the request's transaction (the claim),
    completed with the response in that same transaction: it exists, committed, exactly when the effect does."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("caller", "key"),
        Index("ix_idempotency_keys_created_at", "created_at"),
    )

    caller: Mapped[str] = mapped_column(String(120))  # 'u:<user id>', or 'a:<client id>:<address>' when anonymous
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))  # sha256 of method, path and the raw body
    status_code: Mapped[int | None] = mapped_column(Integer)
    headers: Mapped[dict[str, str] | None] = mapped_column(JsonType)
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

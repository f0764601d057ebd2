from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEntry


def record(db: AsyncSession, actor_id: int | None, action: str, object_type: str, object_id: int,
           **details: Any) -> None:
    """Add an audit entry to the current unit of work (lands with the change or not at all)."""
    db.add(AuditEntry(actor_id=actor_id, action=action, object_type=object_type, object_id=object_id,
                      details=details))

from __future__ import annotations

from datetime import datetime

from app.core.schemas import OutputModel


class UploadRead(OutputModel):
    id: int
    content_type: str
    size: int
    created_at: datetime

"""Group notices (群公告): leaders and staff post to the group; every active member is told in the same
transaction. Reading them is in queries.list_notices."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.errors import NotPermitted
from app.groups import policies, queries
from app.groups.models import GroupNotice
from app.groups.schemas import NoticeCreate
from app.groups.service import group_link
from app.notifications.service import notify
from app.users.models import User


async def post_notice(db: AsyncSession, p: Principal, group_id: int, data: NoticeCreate) -> dict[str, Any]:
    g, m = await queries.visible_group(db, p, group_id)
    if not policies.can_post_notice(p, queries.group_facts(g), queries.member_facts(m)):
        raise NotPermitted()
    notice = GroupNotice(group_id=g.id, author_id=p.user_id, title=data.title, body=data.body,
                         created_at=datetime.now(UTC))
    db.add(notice)
    await db.flush()
    await notify(db, await queries.member_ids(db, g.id), "group.notice", object_type="group", object_id=g.id,
                 link=group_link(g.id) + "/notices", params={"group": g.name, "title": data.title},
                 exclude=p.user_id)
    author = await db.get(User, p.user_id)
    return {"id": notice.id, "group_id": g.id, "author_name": author.display_name if author else "",
            "title": notice.title, "body": notice.body, "created_at": notice.created_at}

"""An app's first requests, posted at once, file every report through one service account (the account's unique
phone and INSERT ... ON CONFLICT DO NOTHING), on both databases."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from app.open311.service import service_account_phone
from app.reports.models import Report
from app.users.models import User
from tests.open311.helpers import V2, open311_app, post_form


async def test_first_requests_at_once_share_one_service_account(app, client, world):
    api_client, key = await open311_app(app, world)
    results = await asyncio.gather(*[client.post(f"{V2}/requests.json", data=post_form(world, key))
                                     for _ in range(6)])
    assert [r.status_code for r in results] == [200] * 6, [r.text for r in results]
    async with app.state.db.session(write=False) as s:
        accounts = (await s.execute(select(User.id).where(
            User.phone == service_account_phone(api_client.client_id)))).scalars().all()
        reporters = (await s.execute(select(Report.reporter_id, func.count()).group_by(Report.reporter_id))).all()
    assert len(accounts) == 1
    assert reporters == [(accounts[0], 6)]
    assert len({r.json()[0]["service_request_id"] for r in results}) == 6

"""The facade's reads run a fixed number of statements, whatever the number of reports listed."""

from __future__ import annotations

from tests.open311.helpers import V2, upload
from tests.reports.factories import make_report
from tests.reports.test_statement_counts import Counter


async def _statements(app, client, url: str) -> int:
    with Counter(app) as c:
        resp = await client.get(url)
    assert resp.status_code == 200, resp.text
    return c.n


async def test_the_list_costs_four_statements_for_one_report_or_many(app, client, world):
    first = await make_report(app, world, state="resolved", photo_ids=[await upload(client, world)])
    # jurisdiction, requests, their public steps, their photos
    assert await _statements(app, client, f"{V2}/requests.json") == 4
    for _ in range(4):
        await make_report(app, world, state="dispatched", photo_ids=[await upload(client, world)])
    assert await _statements(app, client, f"{V2}/requests.xml") == 4
    assert await _statements(app, client, f"{V2}/requests/{first.id}.json") == 4
    assert await _statements(app, client, f"{V2}/services.json") == 2  # jurisdiction, categories

"""Who hears of which step (app/reports/notices.py): the rule as a table, no database."""

from __future__ import annotations

import pytest

from app.notifications.catalog import TEMPLATES
from app.reports.lifecycle import Action, State
from app.reports.notices import GRID, HANDLER, LEVEL, REPORTER, notices_for


@pytest.mark.parametrize(("action", "to", "expected"), [
    (Action.accept, State.accepted, {(REPORTER, "report.accepted")}),
    (Action.reject, State.rejected, {(REPORTER, "report.rejected")}),
    (Action.dispatch, State.dispatched, {(REPORTER, "report.dispatched"), (HANDLER, "report.assigned")}),
    (Action.return_, State.accepted, {(GRID, "report.returned")}),
    (Action.resolve, State.resolved, {(REPORTER, "report.resolved")}),
    (Action.supervise, State.in_progress, {(HANDLER, "report.supervised")}),
    (Action.rate, State.dispatched, {(HANDLER, "report.reopened")}),   # 差评: back to the handler
    (Action.rate, State.closed, set()),
    (Action.hide, State.submitted, set()),
    (Action.escalate, State.accepted, {(LEVEL, "report.escalated")}),
    (Action.request_extension, State.in_progress, {(LEVEL, "report.extension_requested")}),
])
def test_who_hears_of_a_step(action, to, expected):
    assert set(notices_for(action, to)) == expected


def test_every_notice_type_has_words():
    for action in Action:
        for to in State:
            for _, type_ in notices_for(action, to):
                assert type_ in TEMPLATES

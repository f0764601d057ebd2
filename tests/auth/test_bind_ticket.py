"""Bind tickets without HTTP: signed, bound to the key, expiring (issue 18)."""

from __future__ import annotations

from app.auth import bind_ticket
from app.auth.bind_ticket import Ticket


def test_a_ticket_reads_back_until_it_expires():
    t = Ticket("wxapp", "openid-1", "union-1", 1000)
    text = bind_ticket.issue("key", t)
    assert bind_ticket.read("key", text, 999) == t
    assert bind_ticket.read("key", text, 1000) is None
    assert bind_ticket.read("other-key", text, 999) is None


def test_a_changed_ticket_is_refused():
    text = bind_ticket.issue("key", Ticket("wxapp", "openid-1", None, 1000))
    payload, sig = text.split(".")
    forged = bind_ticket.issue("key", Ticket("wxapp", "openid-2", None, 1000)).split(".")[0]
    assert bind_ticket.read("key", f"{forged}.{sig}", 1) is None
    assert bind_ticket.read("key", payload, 1) is None
    assert bind_ticket.read("key", "", 1) is None
    assert bind_ticket.read("key", "x.y", 1) is None

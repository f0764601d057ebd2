"""Pure rules of webhooks: signatures, the retry schedule, where a webhook may be sent."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
from datetime import UTC, datetime, timedelta

import pytest

from app.notifications import backoff, signing, ssrf
from app.notifications.webhooks_events import WebhookEventType, body


def test_a_signature_matches_one_computed_independently():
    key = bytes(range(32))
    secret = "whsec_" + base64.b64encode(key).decode()
    payload = b'{"type":"report.accepted","version":1}'
    expected = base64.b64encode(hmac.new(key, b"msg_abc.1674087231." + payload, hashlib.sha256).digest()).decode()
    assert signing.sign(secret, "msg_abc", 1674087231, payload) == "v1," + expected
    # a different id, timestamp or body changes it
    assert signing.sign(secret, "msg_abd", 1674087231, payload) != "v1," + expected
    assert signing.sign(secret, "msg_abc", 1674087232, payload) != "v1," + expected
    assert signing.sign(secret, "msg_abc", 1674087231, payload + b" ") != "v1," + expected


def test_the_standard_webhooks_reference_vector():
    # from the Standard Webhooks libraries' tests: this secret, id, timestamp and body give this signature
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body_ = b'{"test": 2432232314}'
    assert signing.sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body_) == \
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_headers_carry_one_signature_per_secret():
    a, b = signing.new_secret(), signing.new_secret()
    assert a.startswith("whsec_") and len(signing.secret_key(a)) == 32 and a != b
    h = signing.headers([a, b], "msg_1", 100, b"{}")
    assert h["webhook-id"] == "msg_1" and h["webhook-timestamp"] == "100"
    assert h["webhook-signature"].split(" ") == [signing.sign(a, "msg_1", 100, b"{}"),
                                                 signing.sign(b, "msg_1", 100, b"{}")]
    ids = {signing.new_message_id() for _ in range(100)}
    assert len(ids) == 100 and all(i.startswith("msg_") and "." not in i for i in ids)


def test_the_backoff_schedule_is_exponential_and_bounded():
    now = datetime(2026, 12, 4, tzinfo=UTC)
    schedule = (10, 30, 120, 600)
    no_jitter = [backoff.next_attempt_at(now, n, schedule, lambda: 0.0) for n in range(1, 6)]
    assert no_jitter == [now + timedelta(seconds=s) for s in schedule] + [None]
    assert backoff.next_attempt_at(now, 1, schedule, lambda: 0.999) < now + timedelta(seconds=11.0)
    assert backoff.next_attempt_at(now, 1, schedule, lambda: 0.5) == now + timedelta(seconds=10.5)
    assert backoff.max_attempts(schedule) == 5
    assert backoff.total_span(schedule) == timedelta(seconds=760 * 1.1)


def test_the_default_schedule_ends_within_a_day():
    from app.core.config import Settings

    schedule = Settings(jwt_secret="x" * 40).webhook_retry_schedule
    assert list(schedule) == sorted(schedule) and backoff.total_span(schedule) < timedelta(days=1)


@pytest.mark.parametrize(("address", "reason"), [
    ("8.8.8.8", None), ("2001:4860:4860::8888", None), ("93.184.216.34", None),
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("10.1.2.3", "private"), ("172.16.0.1", "private"),
    ("192.168.1.1", "private"), ("100.64.0.1", "private"), ("fd00::1", "private"), ("169.254.169.254", "link_local"),
    ("fe80::1", "link_local"), ("224.0.0.1", "multicast"), ("ff02::1", "multicast"), ("0.0.0.0", "unspecified"),
    ("::", "unspecified"), ("240.0.0.1", "reserved"), ("::ffff:127.0.0.1", "loopback"), ("::ffff:10.0.0.1", "private"),
])
def test_addresses_are_classified(address, reason):
    assert ssrf.forbidden_reason(ipaddress.ip_address(address)) == reason


def test_allow_private_lets_only_private_kinds_through():
    ssrf.check(ipaddress.ip_address("127.0.0.1"), allow_private=True)
    ssrf.check(ipaddress.ip_address("10.0.0.1"), allow_private=True)
    for refused in ("224.0.0.1", "0.0.0.0", "240.0.0.1"):
        with pytest.raises(ssrf.AddressRefused):
            ssrf.check(ipaddress.ip_address(refused), allow_private=True)
    with pytest.raises(ssrf.AddressRefused) as caught:
        ssrf.check(ipaddress.ip_address("127.0.0.1"), allow_private=False)
    assert caught.value.kind == "loopback"


async def test_names_are_resolved_and_every_address_checked():
    assert (await ssrf.resolve_public("localhost", 80, allow_private=True)).addresses[0] in ("127.0.0.1", "::1")
    with pytest.raises(ssrf.AddressRefused) as caught:
        await ssrf.resolve_public("localhost", 80, allow_private=False)
    assert caught.value.kind == "loopback"
    with pytest.raises(ssrf.AddressRefused) as caught:
        await ssrf.resolve_public("no-such-host.invalid", 443, allow_private=True)
    assert caught.value.kind == "unresolvable"


@pytest.mark.parametrize(("url", "why"), [
    ("ftp://example.com/x", "scheme"), ("javascript:alert(1)", "scheme"),
    ("https://user:pw@example.com/", "credentials"),
    ("https://example.com/#frag", "fragment"), ("https:///path", "no host"), ("https://exa mple.com/", "spaces"),
    ("https://example.com:99999/", "not a URL"), ("https://example.com:0/", "port 0"),
    ("https://example.com/" + "a" * 2000, "longer"), ("https://" + "a" * 64 + ".com/", "host name"),
])
def test_malformed_urls_are_refused(url, why):
    with pytest.raises(ssrf.UrlInvalid) as caught:
        ssrf.parse_url(url)
    assert why in str(caught.value)


def test_good_urls_are_parsed():
    assert ssrf.parse_url("https://Hooks.Example.com/x?y=1") == ssrf.Target("https", "hooks.example.com", 443)
    assert ssrf.parse_url("http://[::1]:8080/") == ssrf.Target("http", "::1", 8080)
    assert ssrf.parse_url("https://例子.测试/").host == "xn--fsqu00a.xn--0zwm56d"
    assert ssrf.host_header(ssrf.Target("http", "::1", 8080)) == "[::1]:8080"
    assert ssrf.host_header(ssrf.Target("https", "a.example", 443)) == "a.example"


def test_the_body_is_a_versioned_compact_envelope():
    text = body(WebhookEventType.report_closed, {"report_id": 1, "at": datetime(2026, 1, 1, tzinfo=UTC)},
                datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert text == ('{"type":"report.closed","version":1,"timestamp":"2026-01-02T03:04:05Z",'
                    '"data":{"report_id":1,"at":"2026-01-01T00:00:00Z"}}')


def test_state_changes_announce_events_and_recorded_steps_do_not():
    from app.reports.lifecycle import Action, State
    from app.reports.webhook_events import event_for

    E = WebhookEventType
    assert event_for(Action.dispatch, State.dispatched) is E.report_dispatched
    assert event_for(Action.rate, State.closed) is E.report_closed
    assert event_for(Action.rate, State.dispatched) is E.report_reopened  # 差评
    assert event_for(Action.rate, State.accepted) is E.report_reopened    # reopened too often: back to intake
    assert event_for(Action.auto_close, State.closed) is E.report_closed
    for quiet in (Action.supervise, Action.escalate, Action.extend, Action.request_extension, Action.hide,
                  Action.unhide, Action.hide_photo):
        assert event_for(quiet, State.dispatched) is None

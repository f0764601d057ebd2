"""Every error code, with its one `details` shape.

Services raise errors with whatever is at hand; `normalize` turns those into the code's documented shape before the
envelope is sent, so a client switches on `code` and reads `details` the same way every time. The shapes are
listed in openapi.json (the ErrorBody schema's description) from DETAILS below, and a test checks that every code
the app raises is here.

Pydantic's own validation messages are translated here too (Chinese by default, English on `Accept-Language: en`).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel


class Issue(BaseModel):
    """One problem with the request: where (`loc`, e.g. ["body", "phone"]), what kind (`type`), and a message."""

    loc: list[str]
    type: str
    msg: str


class Field_(BaseModel):
    field: str
    value: Any = None
    reason: str | None = None


class Reason(BaseModel):
    reason: str | None = None


class StaleVersion(BaseModel):
    current_version: int
    state: str


class InvalidTransition(BaseModel):
    state: str | None = None
    action: str | None = None
    reason: str | None = None


class RetryAfter(BaseModel):
    retry_after: int


class MaxBytes(BaseModel):
    max_bytes: int


class MaxPixels(BaseModel):
    max_pixels: int


class Allowed(BaseModel):
    allowed: list[str]


class Dependants(BaseModel):
    open_reports: int
    active_categories: int


class CommunityMove(BaseModel):
    community_id: int | None
    to_community_id: int


class NotEligible(BaseModel):
    """Why someone may not take part: `reason` names the rule (a vote's electorate, a service's age or grids, a
    members-only activity); the other fields say more where the rule has them."""
    reason: str
    electorate_grid_id: int | None = None
    electorate_name: str | None = None
    min_age: int | None = None


class VoteWindow(BaseModel):
    opens_at: str
    closes_at: str


class SlotFull(BaseModel):
    slot_id: int
    capacity: int


class AlreadyBooked(BaseModel):
    slot_id: int


class BookingWindow(BaseModel):
    opens_at: str
    closes_at: str


class BudgetLeft(BaseModel):
    year: int
    amount: int
    reserved: int
    remaining: int
    requested: int


class NoticeWindow(BaseModel):
    notice_ends_at: str


class CancelDeadline(BaseModel):
    deadline: str


class BookingLimit(BaseModel):
    limit: int
    active: int


class BlockedUntil(BaseModel):
    until: str


class ServicePaused(BaseModel):
    service_id: int
    status: str


class SlotCancelled(BaseModel):
    slot_id: int
    reason: str | None = None
# ---- groups and points (issue 16) ----


class MemberCap(BaseModel):
    member_cap: int | None


class CapBelowMembers(BaseModel):
    member_count: int
    member_cap: int | None


class Capacity(BaseModel):
    capacity: int


class SignupDeadline(BaseModel):
    signup_deadline: str


class Hours(BaseModel):
    hours: float


class Balance(BaseModel):
    balance: int
    needed: int


class Stock(BaseModel):
    stock: int


class Limit(BaseModel):
    limit: int


class ConsentVersions(BaseModel):
    required_version: str
    accepted_version: str | None = None
# ---- registered apps (issue 18) ----


class ScopeNeeded(BaseModel):
    scope: str
# ---- sign-in by SMS code and WeChat (issue 18) ----


class AttemptsLeft(BaseModel):
    attempts_left: int


class BindTicket(BaseModel):
    bind_ticket: str
    expires_in: int


class SmsRateLimited(BaseModel):
    retry_after: int
    per: str  # "phone" or "address": which limit was hit


# code -> the model of its details; None: details is always null; "issues": a list of Issue
DETAILS: dict[str, type[BaseModel] | str | None] = {
    "validation_error": "issues",
    "invalid_reference": Field_,
    "invalid_period": Reason,
    "invalid_parent": Field_,
    "invalid_cursor": None,
    "stale_version": StaleVersion,
    "invalid_transition": InvalidTransition,
    "conflict": Reason,
    "too_many_requests": RetryAfter,
    "payload_too_large": MaxBytes,
    "image_too_large": MaxPixels,
    "unsupported_media_type": Allowed,
    "has_dependants": Dependants,
    "move_needs_staff": CommunityMove,
    "phone_taken": None, "code_taken": None, "photo_already_attached": None, "already_rated": None,
    "wrong_password": None, "unauthenticated": None, "invalid_credentials": None, "invalid_refresh_token": None,
    "account_disabled": None, "forbidden": None, "not_found": None, "method_not_allowed": None,
    "bad_request": None, "internal_error": None, "service_unavailable": None, "error": None,
    # deliberation
    "already_supported": None, "already_voted": None,
    "not_eligible": NotEligible,
    "voting_not_open": VoteWindow, "voting_closed": VoteWindow,
    "budget_exceeded": BudgetLeft, "budget_below_reserved": BudgetLeft,
    "notice_not_over": NoticeWindow,
    # webhooks (issue 14): which URL part or address, and why
    "webhook_url_invalid": Field_, "webhook_address_forbidden": Field_, "webhook_disabled": None,
    "delivery_in_flight": None,
    # bookings
    "slot_full": SlotFull, "already_booked": AlreadyBooked, "booking_window_closed": BookingWindow,
    "cancel_deadline_passed": CancelDeadline, "booking_limit_reached": BookingLimit,
    "booking_blocked": BlockedUntil, "service_paused": ServicePaused, "slot_cancelled": SlotCancelled,
    # groups and points (issue 16)
    "group_full": MemberCap, "cap_below_members": CapBelowMembers,
    "already_member": None, "application_pending": None, "already_invited": None, "invite_only": None,
    "not_a_member": None, "no_application": None, "not_a_leader": None,
    "activity_full": Capacity, "signup_closed": SignupDeadline, "already_signed_up": None, "not_signed_up": None,
    "not_volunteer_service": None, "not_checked_in": None, "hours_already_confirmed": Hours,
    "insufficient_points": Balance, "already_posted": Reason, "out_of_stock": Stock, "reward_limit_reached": Limit,
    # privacy (issue 21): the current notice version, and the one accepted (or sent)
    "privacy_consent_required": ConsentVersions, "privacy_notice_outdated": ConsentVersions,
    # export and erasure (issue 21)
    "staff_not_erasable": None,
    # idempotent retries (issue 18); rate limits reuse too_many_requests ({"retry_after"})
    "idempotency_key_invalid": None, "idempotency_key_reused": None, "idempotency_in_progress": None,
    # registered apps (issue 18)
    "client_unknown": None, "client_secret_invalid": None, "client_suspended": None,
    "client_scope_missing": ScopeNeeded, "client_origin_invalid": Field_,
    # sign-in by SMS code and WeChat (issue 18)
    "sms_code_invalid": AttemptsLeft, "sms_code_expired": None, "sms_code_used": None,
    "sms_code_attempts_exceeded": None, "sms_rate_limited": SmsRateLimited,
    "wechat_code_invalid": None, "wechat_unavailable": Reason, "wechat_not_bound": BindTicket,
    "wechat_ticket_invalid": None,
}


def _issues(details: Any) -> list[dict[str, Any]]:
    if isinstance(details, list):
        return [{"loc": [str(x) for x in d.get("loc", ["body"])], "type": str(d.get("type", "invalid")),
                 "msg": str(d.get("msg", ""))} for d in details if isinstance(d, dict)]
    if isinstance(details, dict):
        reason = details.get("reason")
        out = [{"loc": ["body", str(k)], "type": "invalid", "msg": str(v if reason is None else f"{v}: {reason}")}
               for k, v in details.items() if k != "reason"]
        return out or [{"loc": ["body"], "type": "invalid", "msg": str(reason or "")}]
    return []


def normalize(code: str, details: Any) -> Any:
    """The details of `code` in its documented shape (unknown keys dropped, missing ones null)."""
    shape = DETAILS.get(code)
    if shape is None:
        return None
    if shape == "issues":
        return _issues(details)
    if not isinstance(shape, type):
        return None
    data = details if isinstance(details, dict) else {}
    if shape is Field_:
        others = [(k, v) for k, v in data.items() if k not in ("reason", "field", "value")]
        name, value = (data["field"], data.get("value")) if "field" in data else (others[0] if others else ("", None))
        data = {"field": str(name), "value": value, "reason": data.get("reason")}
    if shape is InvalidTransition:
        data = {k: (str(data[k]) if data.get(k) is not None else None) for k in ("state", "action", "reason")}
    try:
        return shape.model_validate({k: v for k, v in data.items() if k in shape.model_fields}).model_dump()
    except ValueError:
        return None


def documentation() -> str:
    """The `details` of each code, for openapi.json."""
    lines = ["`details` by `code` (one shape per code; null where not listed):", ""]
    for code, shape in sorted(DETAILS.items()):
        model = Issue if shape == "issues" else shape
        if isinstance(model, type):
            fields = model.model_json_schema().get("properties", {})
            shown = json.dumps({k: v.get("type", "any") for k, v in fields.items()})
            lines.append(f"- `{code}`: {'a list of ' if shape == 'issues' else ''}`{shown}`")
    return "\n".join(lines)


# ---- pydantic's messages in Chinese ------------------------------------------------------------------------

ZH_VALIDATION: dict[str, str] = {
    "missing": "缺少必填字段",
    "extra_forbidden": "不允许的字段",
    "string_too_short": "内容过短",
    "string_too_long": "内容过长",
    "string_pattern_mismatch": "格式不正确",
    "string_type": "应为字符串",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "bool_parsing": "应为布尔值",
    "bool_type": "应为布尔值",
    "greater_than": "数值过小",
    "greater_than_equal": "数值过小",
    "less_than": "数值过大",
    "less_than_equal": "数值过大",
    "too_short": "条目过少",
    "too_long": "条目过多",
    "list_type": "应为列表",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "enum": "取值不在允许范围内",
    "literal_error": "取值不在允许范围内",
    "json_invalid": "JSON 格式错误",
    "json_type": "应为 JSON",
    "datetime_parsing": "日期时间格式不正确",
    "datetime_type": "应为日期时间",
    "date_parsing": "日期格式不正确",
    "date_from_datetime_parsing": "日期格式不正确",
    "timezone_aware": "日期时间须带时区",
    "value_error": "取值不合法",
    "assertion_error": "取值不合法",
    "body_unparsable": "请求体无法解析",
    "phone": "应为中国大陆手机号",
    "invalid": "取值不合法",
}


def validation_message(error_type: str, english_msg: str, english: bool) -> str:
    if english:
        return english_msg
    return ZH_VALIDATION.get(error_type, "参数不合法")

"""Error messages in Chinese (default) and English (Accept-Language: en)."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Annotated

from pydantic import PlainSerializer

MESSAGES: dict[str, tuple[str, str]] = {
    "validation_error": ("请求参数有误", "The request is not valid"),
    "bad_request": ("请求有误", "Bad request"),
    "unauthenticated": ("未登录或登录已失效", "Not authenticated or the token is not valid"),
    "invalid_credentials": ("手机号或密码错误", "Wrong phone number or password"),
    "invalid_refresh_token": ("刷新令牌无效或已被使用", "The refresh token is not valid or was already used"),
    "account_disabled": ("账号已停用", "The account is disabled"),
    "forbidden": ("无权执行此操作", "You are not permitted to do this"),
    "not_found": ("资源不存在", "Not found"),
    "method_not_allowed": ("不支持该请求方法", "Method not allowed"),
    "conflict": ("与当前状态冲突", "Conflicts with the current state"),
    "phone_taken": ("该手机号已注册", "This phone number is already registered"),
    "code_taken": ("编码已被使用", "This code is already in use"),
    "move_needs_staff": ("迁入其他社区需由社区工作人员办理", "A move to another community is made by its staff"),
    "has_dependants": ("仍有未办结诉求或分类依赖此项，请先转移",
                       "Open reports or active categories still depend on it; move them first"),
    "invalid_parent": ("上级网格不合法", "The parent grid is not valid for this level"),
    "invalid_reference": ("引用的对象不存在或不可用", "A referenced object does not exist or is not usable"),
    "wrong_password": ("当前密码错误", "The current password is wrong"),
    "payload_too_large": ("请求体过大", "The request body is too large"),
    "image_too_large": ("图片像素过多", "The image has too many pixels"),
    "too_many_requests": ("尝试次数过多，请稍后再试", "Too many attempts, try again later"),
    "invalid_cursor": ("分页游标无效", "The pagination cursor is not valid"),
    "unsupported_media_type": ("不支持的内容类型", "Unsupported media type"),
    "invalid_transition": ("当前状态下不能执行该操作", "This step is not allowed in the report's current state"),
    "stale_version": ("该事项已被他人处理，请刷新后重试", "Someone acted on this report first; reload and retry"),
    "photo_already_attached": ("照片已被使用", "A photo is already attached elsewhere"),
    "already_rated": ("本轮办理已评价过", "This resolution has already been rated"),
    "invalid_period": ("统计时段无效", "The period is not valid (see details)"),
    "internal_error": ("服务器内部错误", "Internal server error"),
    "service_unavailable": ("服务暂不可用", "Service unavailable"),
    # deliberation
    "already_supported": ("您已附议过该议题", "You already support this proposal"),
    "already_voted": ("您已投过票，每人只能投一次", "You have already voted; one ballot each"),
    "not_eligible": ("您不符合参与条件（见 details.reason）", "You are not eligible for this (see details.reason)"),
    "voting_not_open": ("投票尚未开始", "Voting has not opened yet"),
    "voting_closed": ("投票已结束", "Voting has closed"),
    "budget_exceeded": ("年度民生微实事预算不足（见剩余额度）",
                        "The year's budget cannot cover this (see what is left)"),
    "budget_below_reserved": ("预算不能低于已占用的金额", "The budget cannot be less than what is already reserved"),
    "notice_not_over": ("公示期尚未结束，不能开始表决", "The public notice period has not ended yet"),
    # webhooks (issue 14)
    "webhook_url_invalid": ("推送地址无效（须为 http/https，不含账号密码）",
                            "The webhook URL is not valid (http or https, no credentials)"),
    "webhook_address_forbidden": ("推送地址无法解析或指向内网地址", "The webhook host does not resolve, or resolves to "
                                  "a private, loopback, link-local or reserved address"),
    "webhook_disabled": ("该推送订阅已停用", "This webhook subscription is disabled"),
    "delivery_in_flight": ("该推送正在发送中，请稍后再试", "This delivery is being sent; try again shortly"),
    # bookings
    "slot_full": ("该时段已约满", "This slot is full"),
    "already_booked": ("您已预约该时段", "You already hold a place in this slot"),
    "booking_window_closed": ("不在可预约时间内", "Booking for this slot is not open (see opens_at/closes_at)"),
    "cancel_deadline_passed": ("已过取消截止时间", "The cancellation deadline has passed"),
    "booking_limit_reached": ("已达到该服务的预约上限", "You hold as many bookings of this service as allowed"),
    "booking_blocked": ("因多次爽约暂停预约", "Booking is blocked after repeated no-shows (see until)"),
    "service_paused": ("该服务暂停预约", "This service is not taking bookings"),
    "slot_cancelled": ("该时段已取消", "This slot was cancelled"),
    # groups and points (issue 16)
    "group_full": ("社群人数已满", "The group is full"),
    "cap_below_members": ("人数上限不能低于现有成员数", "The cap cannot be below the current number of members"),
    "already_member": ("您已是该社群成员", "You are already a member of this group"),
    "application_pending": ("入群申请正在审核中", "Your application is waiting for a decision"),
    "already_invited": ("已发出邀请，等待对方接受", "An invitation is already waiting to be accepted"),
    "invite_only": ("该社群仅限邀请加入", "This group is by invitation only"),
    "not_a_member": ("不是该社群成员", "Not a member of this group"),
    "no_application": ("没有待审核的入群申请", "There is no application waiting for a decision"),
    "not_a_leader": ("该居民不是负责人", "This resident is not a leader"),
    "activity_full": ("活动名额已满", "The activity is full"),
    "signup_closed": ("报名已截止", "Signups are closed"),
    "already_signed_up": ("您已报名该活动", "You have already signed up"),
    "not_signed_up": ("未报名该活动", "Not signed up for this activity"),
    "not_volunteer_service": ("该活动不是志愿服务", "This activity is not volunteer service"),
    "not_checked_in": ("参与者尚未签到", "The participant has not checked in"),
    "hours_already_confirmed": ("志愿时长已确认过", "The volunteer hours were already confirmed"),
    "insufficient_points": ("积分不足", "Not enough points"),
    "already_posted": ("该积分记录已存在", "These points were already recorded"),
    "out_of_stock": ("库存不足", "Out of stock"),
    "reward_limit_reached": ("已达到每人兑换上限", "You have reached the limit for this reward"),
    # privacy (issue 21)
    "privacy_consent_required": ("隐私政策已更新，请阅读并同意后继续",
                                 "The privacy notice has changed: read and accept it to go on"),
    "privacy_notice_outdated": ("隐私政策版本已更新，请阅读最新版本后同意",
                                "That is not the current privacy notice: read the current one and accept it"),
    # export and erasure (issue 21)
    "staff_not_erasable": ("工作人员账号不能注销，请由管理员停用",
                           "Staff accounts are not erased; an admin deactivates them"),
    # idempotent retries (issue 18)
    "idempotency_key_invalid": ("Idempotency-Key 须为 1 到 255 个可打印 ASCII 字符",
                                "Idempotency-Key must be 1 to 255 printable ASCII characters"),
    "idempotency_key_reused": ("该 Idempotency-Key 已用于另一个请求",
                               "This Idempotency-Key was used for another request"),
    "idempotency_in_progress": ("使用该 Idempotency-Key 的请求仍在处理中，请稍后重试",
                                "A request with this Idempotency-Key is still in progress; retry shortly"),
    # registered apps (issue 18)
    "client_unknown": ("未知的应用（client id 不存在）", "Unknown app: no such client id"),
    "client_secret_invalid": ("应用密钥错误", "The app's secret is wrong"),
    "client_suspended": ("该应用已被停用", "This app is suspended"),
    "client_scope_missing": ("该应用无权执行此操作（缺少授权范围，见 details.scope）",
                             "The app is not granted the scope this needs (see details.scope)"),
    "client_origin_invalid": ("来源地址无效（须为 http(s)://主机[:端口]，不含路径和通配符）",
                              "The origin is not valid: http(s)://host[:port], no path, no wildcard"),
    # sign-in by SMS code and WeChat (issue 18)
    "sms_code_invalid": ("验证码错误", "The verification code is wrong (see attempts_left)"),
    "sms_code_expired": ("验证码已过期，请重新获取", "The verification code has expired; ask for a new one"),
    "sms_code_used": ("验证码已使用，请重新获取", "The verification code was already used; ask for a new one"),
    "sms_code_attempts_exceeded": ("验证码错误次数过多，请重新获取",
                                   "Too many wrong tries: the code is void; ask for a new one"),
    "sms_rate_limited": ("获取验证码过于频繁，请稍后再试", "Codes were asked for too often; try again later"),
    "wechat_code_invalid": ("微信登录凭证无效或已使用，请重新登录",
                            "WeChat rejected the login code; call wx.login again"),
    "wechat_unavailable": ("微信服务暂不可用，请稍后再试", "WeChat is unavailable; try again shortly (see reason)"),
    "wechat_not_bound": ("该微信尚未绑定手机号，请验证手机号完成绑定",
                         "This WeChat user is not bound yet: verify a phone number to bind (see bind_ticket)"),
    "wechat_ticket_invalid": ("绑定凭证无效或已过期，请重新登录", "The bind ticket is not valid or has expired"),
}


def wants_english(accept_language: str | None) -> bool:
    """True when the first acceptable language is English."""
    if not accept_language:
        return False
    best, best_q = "", -1.0
    for part in accept_language.split(","):
        bits = part.strip().split(";")
        lang = bits[0].strip().lower()
        q = 1.0
        for b in bits[1:]:
            b = b.strip()
            if b.startswith("q="):
                try:
                    q = float(b[2:])
                except ValueError:
                    q = 0.0
        if lang and q > best_q:
            best, best_q = lang, q
    return best.startswith("en")


def message(code: str, english: bool, fallback: str | None = None) -> str:
    zh, en = MESSAGES.get(code, (fallback or code, fallback or code))
    return en if english else zh


# ---- names of erased accounts (issue 21): shown in the request's language ------------------------------------

ERASED_NAME = ("已注销居民", "Deregistered resident")
# the request's language, set by RequestContextMiddleware from Accept-Language (False outside a request)
english_var: ContextVar[bool] = ContextVar("weilinli_english", default=False)


def shown_name(name: str) -> str:
    """A display name as a response shows it: an erased account's (stored as 已注销居民) in English on
    `Accept-Language: en`; every other name as it is."""
    return ERASED_NAME[1] if name == ERASED_NAME[0] and english_var.get() else name


# the type of every display name in a response: `display_name: PersonName`
PersonName = Annotated[str, PlainSerializer(shown_name, return_type=str, when_used="json")]

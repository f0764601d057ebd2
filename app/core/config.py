"""Settings from environment variables (pydantic-settings). See README's configuration table."""

from __future__ import annotations

import json
import logging
import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from fastapi import Depends, Request
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

log = logging.getLogger("weilinli.config")


class Env(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class UnsafeSettings(RuntimeError):
    """Raised at start-up in production when a setting is unsafe; the message names it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    weilinli_env: Env = Env.development
    database_url: str = "sqlite+aiosqlite:///./weilinli.db"
    db_pool_size: int = Field(default=20, ge=1, le=200)
    db_max_overflow: int = Field(default=0, ge=0, le=200)
    # PostgreSQL: the pool of the statements planned once for any values (the figures' reads, app/db/reader.py)
    db_generic_pool_size: int = Field(default=8, ge=1, le=200)
    # requests worked on at once per process, the rest queued in arrival order (app/core/admission.py); 0: no limit
    max_concurrent_requests: int = Field(default=16, ge=0, le=10_000)
    principal_cache_size: int = Field(default=10_000, ge=0, le=1_000_000)  # PostgreSQL only; 0 turns it off
    sqlite_busy_timeout_ms: int = Field(default=15000, ge=0)

    jwt_secret: str | None = None
    jwt_secret_file: Path = Path(".weilinli/jwt_secret")
    jwt_algorithm: str = "HS256"
    jwt_issuer: str = "weilinli"
    jwt_audience: str = "weilinli-api"
    access_token_ttl_seconds: int = Field(default=900, ge=60, le=86400)
    refresh_token_ttl_seconds: int = Field(default=30 * 86400, ge=300, le=365 * 86400)

    # NoDecode: read the variable as text (comma-separated), not as JSON, before the validator below
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    upload_dir: Path = Path("uploads")
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    max_upload_bytes: int = Field(default=8 * 1_048_576, ge=1024)  # whole request to /api/v1/uploads
    max_photo_bytes: int = Field(default=5 * 1_048_576, ge=1024)   # one photo
    max_photo_pixels: int = Field(default=40_000_000, ge=1)        # width × height, checked before decoding
    upload_quota_per_day: int = Field(default=100, ge=1)           # uploads per user per 24 h
    upload_quota_bytes_per_day: int = Field(default=200 * 1_048_576, ge=1024)
    uploads_per_minute: int = Field(default=20, ge=1)              # per user
    photo_url_ttl_seconds: int = Field(default=3600, ge=60, le=7 * 86400)  # signed photo URLs
    upload_orphan_hours: float = Field(default=24, gt=0)           # unattached uploads and stray files older: removed

    login_max_failures: int = Field(default=5, ge=1)
    login_window_seconds: int = Field(default=900, ge=1)
    login_lockout_seconds: int = Field(default=900, ge=1)
    login_max_failures_per_address: int = Field(default=300, ge=1)  # high: a carrier NAT puts thousands behind one
    login_delay_seconds: int = Field(default=30, ge=1)  # a phone's first lock; doubles per failure after the limit
    behind_proxy: bool = False  # trust X-Forwarded-For, from FORWARDED_ALLOW_IPS only
    forwarded_allow_ips: str | None = None
    register_max_per_address: int = Field(default=20, ge=1)  # registrations per LOGIN_WINDOW_SECONDS per address

    # argon2id cost; tests lower it (hashing is deliberately slow)
    password_time_cost: int = Field(default=2, ge=1)
    password_memory_kib: int = Field(default=19456, ge=8)

    # ratings and accountability
    rating_reopen_limit: int = Field(default=2, ge=0, le=10)   # 差评 reopens this many times, then escalates
    auto_close_days: int = Field(default=7, ge=1, le=90)       # unrated resolved reports close after this
    worker_interval_seconds: float = Field(default=60, gt=0)
    # live notification streams: Redis pub/sub fans out across processes when set; one process works without it
    redis_url: str | None = None
    stream_heartbeat_seconds: float = Field(default=15, gt=0, le=300)
    stream_max_per_user: int = Field(default=5, ge=1, le=100)
    stream_max_seconds: float = Field(default=3600, gt=0, le=86400)
    points_expire_months: int = Field(default=24, ge=0, le=120)  # 0: points never expire
    ranking_weights: tuple[float, float, float] = (0.30, 0.35, 0.35)  # response, resolution, satisfaction
    ranking_min_reports: int = Field(default=5, ge=1)
    ranking_top_n: int = Field(default=5, ge=1, le=50)

    # operations: /metrics needs `Authorization: Bearer <METRICS_TOKEN>` when set, and is not served in production
    # without it; /docs, /redoc and /openapi.json are served when DOCS_ENABLED (default: outside production only)
    metrics_token: str | None = None
    docs_enabled: bool | None = None

    # webhooks (issue 14): subscriber endpoints of a community, delivered by the worker from the outbox
    webhook_allow_private: bool = False  # tests and development: allow private, loopback and link-local addresses
    webhook_timeout_seconds: float = Field(default=10, gt=0, le=60)  # one attempt, whole (connect to last byte)
    webhook_retry_schedule: Annotated[tuple[int, ...], NoDecode] = (10, 30, 120, 600, 3600, 4 * 3600, 12 * 3600)
    webhook_batch_size: int = Field(default=20, ge=1, le=500)      # deliveries one worker claims at a time
    webhook_concurrency: int = Field(default=10, ge=1, le=200)     # of those, sent at once
    webhook_lease_seconds: int = Field(default=300, ge=10)         # a claimed delivery is re-sent after this
    webhook_secret_overlap_hours: float = Field(default=24, ge=0, le=24 * 30)  # old secret still signs after rotation

    # idempotent retries and request-rate limits (issue 18; app/core/idempotency.py, app/core/ratelimit.py)
    idempotency_ttl_hours: float = Field(default=24, gt=0, le=24 * 7)  # a key's first response is replayed this long
    idempotency_wait_seconds: float = Field(default=10, gt=0, le=60)   # a retry waits this long for a running first
    rate_limits_enabled: bool = True
    rate_limit_window_seconds: int = Field(default=60, ge=1, le=3600)  # fixed windows; each limit is per window
    rate_limit_user_writes: int = Field(default=120, ge=1)        # POST/PUT/PATCH/DELETE per user (or address)
    rate_limit_client_writes: int = Field(default=6000, ge=1)     # writes per registered app, all its users
    rate_limit_auth_per_address: int = Field(default=120, ge=1)   # writes to /api/v1/auth/* per client address
    rate_limit_auth_per_phone: int = Field(default=10, ge=1)      # sign-in and code requests per phone number
    rate_limit_key_prefix: str = "weilinli:rl:"                   # Redis key prefix (REDIS_URL set)
    # privacy (issue 21): the privacy notice residents must have accepted (app/privacy/notice.py holds its text;
    # change both together), and how long what is personal is kept after it served its purpose
    privacy_notice_version: str = Field(default="2026-12-06", min_length=1, max_length=20)
    report_photo_retention_days: int = Field(default=3 * 365, ge=1)  # photos of reports finished this long ago go
    access_log_retention_days: int = Field(default=180, ge=1)  # login throttles, known addresses, webhook attempts
    # registered apps (issue 18): how long a process remembers the active apps' origins for CORS (a change made
    # through this process applies at once; other processes follow within this many seconds). 0: read every time
    client_origins_ttl_seconds: float = Field(default=2, ge=0, le=60)
    # sign-in by SMS code and WeChat (issue 18)
    sms_provider_url: str | None = None  # POST target of the SMS gateway
    # http: SMS_PROVIDER_URL; log (development): codes written to the log, refused in production; auto: http when
    # SMS_PROVIDER_URL is set, else log outside production and no SMS at all in production (codes answer 503)
    sms_sender: Literal["auto", "http", "log"] = "auto"
    sms_provider_token: str | None = None  # sent as `Authorization: Bearer` to SMS_PROVIDER_URL when set
    sms_timeout_seconds: float = Field(default=5, gt=0, le=30)  # one attempt to the SMS gateway
    sms_retry_schedule: Annotated[tuple[int, ...], NoDecode] = (5, 15, 45, 90)  # within a code's 5 minutes
    sms_resend_seconds: int = Field(default=60, ge=1, le=3600)  # one code per number per this many seconds
    sms_max_per_phone: int = Field(default=5, ge=1)  # codes per number per SMS_WINDOW_SECONDS
    sms_max_per_address: int = Field(default=30, ge=1)  # codes per client address per SMS_WINDOW_SECONDS
    sms_window_seconds: int = Field(default=3600, ge=60)
    wechat_api_url: str = "https://api.weixin.qq.com"  # code2session, access tokens, subscription messages
    # NoDecode: "appid=secret,appid2=secret2"; the app secrets never go through our API
    wechat_app_secrets: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    wechat_timeout_seconds: float = Field(default=5, gt=0, le=30)
    wechat_bind_ticket_seconds: int = Field(default=600, ge=60, le=3600)  # an unknown openid's time to bind

    web_concurrency: int = Field(default=1, ge=1, le=64)
    log_json: bool = True
    log_level: str = "INFO"

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, v: object) -> object:
        if isinstance(v, str):
            if v.strip().startswith("["):
                return json.loads(v)
            return [o.strip() for o in v.split(",") if o.strip()]
        return v

    @field_validator("webhook_retry_schedule", mode="before")
    @classmethod
    def _split_schedule(cls, v: object) -> object:
        """Seconds between attempts, comma-separated ("10,30,120"); each 1 s to 7 days, at most 20."""
        if isinstance(v, str):
            v = [int(x) for x in v.replace("[", "").replace("]", "").split(",") if x.strip()]
        if isinstance(v, list | tuple) and not (len(v) <= 20 and all(1 <= int(x) <= 7 * 86400 for x in v)):
            raise ValueError("WEBHOOK_RETRY_SCHEDULE: up to 20 delays of 1 s to 7 days")
        return v

    @field_validator("sms_retry_schedule", mode="before")
    @classmethod
    def _split_sms_schedule(cls, v: object) -> object:
        if isinstance(v, str):
            v = [int(x) for x in v.replace("[", "").replace("]", "").split(",") if x.strip()]
        if isinstance(v, list | tuple) and not (len(v) <= 10 and all(1 <= int(x) <= 300 for x in v)):
            raise ValueError("SMS_RETRY_SCHEDULE: up to 10 delays of 1 to 300 s")
        return v

    @field_validator("wechat_app_secrets", mode="before")
    @classmethod
    def _split_wechat_secrets(cls, v: object) -> object:
        """"appid=secret" pairs, comma-separated (or a JSON object)."""
        if isinstance(v, str):
            if v.strip().startswith("{"):
                return json.loads(v)
            pairs = [p.strip().split("=", 1) for p in v.split(",") if p.strip()]
            if any(len(p) != 2 or not p[0].strip() or not p[1].strip() for p in pairs):
                raise ValueError("WECHAT_APP_SECRETS: comma-separated appid=secret pairs")
            return {a.strip(): b.strip() for a, b in pairs}
        return v

    @model_validator(mode="after")
    def _lease_outlasts_a_batch(self) -> Settings:
        """A claimed delivery must be sent (or time out) before its lease ends, or a second worker sends it too."""
        rounds = -(-self.webhook_batch_size // self.webhook_concurrency)
        if self.webhook_lease_seconds <= rounds * self.webhook_timeout_seconds + 5:
            raise ValueError("WEBHOOK_LEASE_SECONDS must exceed WEBHOOK_TIMEOUT_SECONDS × "
                             "ceil(WEBHOOK_BATCH_SIZE / WEBHOOK_CONCURRENCY) + 5")
        return self

    @property
    def serves_docs(self) -> bool:
        return self.docs_enabled if self.docs_enabled is not None else self.weilinli_env is not Env.production

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def problems(self) -> list[str]:
        """Unsafe settings for production, each naming the variable."""
        out: list[str] = []
        if self.weilinli_env is not Env.production:
            return out
        if not self.jwt_secret:
            out.append("JWT_SECRET is required when WEILINLI_ENV=production")
        elif len(self.jwt_secret) < 32:
            out.append("JWT_SECRET must be at least 32 characters in production")
        if self.jwt_algorithm not in {"HS256", "HS384", "HS512"}:
            out.append("JWT_ALGORITHM must be one of HS256, HS384, HS512")
        if "*" in self.cors_origins:
            out.append("CORS_ORIGINS must not contain '*' in production")
        if self.behind_proxy and not self.forwarded_allow_ips:
            out.append("FORWARDED_ALLOW_IPS must name the proxy addresses when BEHIND_PROXY is set")
        if self.sms_sender == "log":  # issue 18: the development sender writes codes to the log
            out.append("SMS_SENDER=log is refused in production: codes are never logged there")
        if self.password_time_cost < 2 or self.password_memory_kib < 19456:
            out.append("PASSWORD_TIME_COST/PASSWORD_MEMORY_KIB are below the OWASP argon2id minimum")
        return out

    def signing_secret(self) -> str:
        """The JWT secret; in development one is generated once and kept in JWT_SECRET_FILE."""
        if self.jwt_secret:
            return self.jwt_secret
        if self.weilinli_env is Env.production:
            raise UnsafeSettings("JWT_SECRET is required when WEILINLI_ENV=production")
        path = self.jwt_secret_file
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(48)
        path.write_text(secret)
        path.chmod(0o600)
        log.warning("JWT_SECRET is not set: generated a development secret in %s", path)
        return secret


@lru_cache
def get_settings() -> Settings:
    return Settings()


async def app_settings(request: Request) -> Settings:
    """The settings of the app serving this request (tests build apps with their own)."""
    return request.app.state.settings


AppSettings = Annotated[Settings, Depends(app_settings)]

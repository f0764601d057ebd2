"""The app factory: settings checked, database attached, middleware, error handlers, routers."""

from __future__ import annotations

import gc
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import APIRoute

from app.auth.principal_cache import PrincipalCache, principal_listener
from app.clients.cors import ClientCorsMiddleware, OriginRegistry, active_app_origins
from app.core import idempotency, ratelimit
from app.core.admission import AdmissionMiddleware
from app.core.config import Env, Settings, UnsafeSettings, get_settings
from app.core.errors import install_error_handlers
from app.core.logging import configure_logging
from app.core.metrics import Metrics
from app.core.middleware import BodyLimitMiddleware, RejectNulMiddleware, RequestContextMiddleware
from app.core.routing import include
from app.db.session import Database
from app.notifications.broker import make_broker
from app.notifications.service import publish_on_commit
from app.uploads.signing import PhotoSigner
from app.uploads.storage import LocalStorage

API_DESCRIPTION = """
微邻里 (Weilinli): the API of a neighbourhood app for Chinese urban communities.

**Conventions.** Every path is under `/api/v1`. Authenticate with `Authorization: Bearer <access_token>` from
`POST /api/v1/auth/token`. Every error has the body `{"error": {"code", "message", "details"}}`; messages are
Chinese by default and English with `Accept-Language: en`. Lists are cursor-paginated: pass `limit` and the
`next_cursor` of the previous page as `cursor`. Request bodies refuse unknown fields (422). Every response
carries `X-Request-ID` (an incoming one of up to 64 `[A-Za-z0-9._-]` is kept).
Objects you may not see answer 404, exactly like objects that do not exist.
"""


def operation_id(route: APIRoute) -> str:
    """The OpenAPI operationId: the route function's name (`take_step`, `list_my_reports`), which clients generated
    from openapi.json use as the method name. Route function names are therefore unique across the app (a test
    checks)."""
    return route.name


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    problems = settings.problems()
    if problems:
        raise UnsafeSettings("; ".join(problems))
    configure_logging(settings.log_level, settings.log_json)

    database = Database(settings)
    principals = PrincipalCache(settings.principal_cache_size)
    database.reader.memo = principals  # grid nodes remembered like principals (stats.queries.grid_node)
    broker = make_broker(settings.redis_url)
    publish_on_commit(database, broker)
    # CORS: CORS_ORIGINS plus the origins of active registered apps (issue 18; app/clients/cors.py)
    origins = OriginRegistry(settings.cors_origins, settings.client_origins_ttl_seconds,
                             lambda: active_app_origins(database.reader))
    database.on_commit.append(origins.on_commit)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        listener = principal_listener(settings, principals)
        if listener is not None:
            await listener.start()
        await broker.start()
        if settings.weilinli_env is Env.production:  # tests and development start many apps: not there
            await database.open_pool(settings.db_pool_size)
        # Everything built so far (routes, models, schemas, SQLAlchemy metadata) lives as long as the process: move
        # it out of the collector's reach. Each full collection walked all of it while every request in flight
        # waited; at 32 connections this was most of the p99 (bench/notes/postgresql.md: 150–170 → 75–85 ms).
        gc.collect()
        gc.freeze()
        # A request allocates a few thousand objects, nearly all gone by its end: a young-generation collection
        # every 20,000 allocations instead of every 700 (bench: my reports 787 → 920 req/s, p99 84 → 54 ms).
        gc.set_threshold(20_000, 10, 10)
        try:
            yield
        finally:
            await broker.stop()
            await app.state.limiter.close()
            if listener is not None:
                await listener.stop()
            await database.dispose()

    app = FastAPI(title="微邻里 Weilinli API", version="1.0.0", description=API_DESCRIPTION, lifespan=lifespan,
                  generate_unique_id_function=operation_id,
                  docs_url="/docs" if settings.serves_docs else None,
                  redoc_url="/redoc" if settings.serves_docs else None,
                  openapi_url="/openapi.json" if settings.serves_docs else None)
    app.state.settings = settings
    app.state.db = database
    app.state.principals = principals
    app.state.broker = broker
    app.state.jwt_secret = settings.signing_secret()
    app.state.storage = LocalStorage(settings.upload_dir)
    app.state.photo_signer = PhotoSigner(app.state.jwt_secret, settings.photo_url_ttl_seconds)
    app.state.metrics = Metrics()

    app.state.origins = origins

    install_error_handlers(app)
    # innermost: what the layers outside refuse (limits, CORS) never queues; the access log's time includes the wait
    app.add_middleware(AdmissionMiddleware, limit=settings.max_concurrent_requests)
    app.add_middleware(RejectNulMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes,
                       upload_max_bytes=settings.max_upload_bytes)
    ratelimit.install(app, settings)  # issue 18: request-rate limits, and X-Forwarded-For from trusted proxies
    app.add_middleware(ClientCorsMiddleware, registry=origins)  # outside the limits: their errors carry CORS too
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics)

    from app.announcements.router import router as announcements_router
    from app.auth.router import router as auth_router
    from app.bookings.router import bookings as bookings_router
    from app.bookings.router import errands as errands_router
    from app.bookings.router import services as services_router
    from app.bookings.router import slots as slots_router
    from app.core.metrics_router import router as metrics_router
    from app.deliberation.community_router import router as deliberation_community_router
    from app.deliberation.projects_router import router as projects_router
    from app.deliberation.router import comments_router as proposal_comments_router
    from app.deliberation.router import router as proposals_router
    from app.groups.activity_router import router as activities_router
    from app.groups.router import router as groups_router
    from app.health import router as health_router
    from app.notifications.router import router as notifications_router
    from app.org.router import router as org_router
    from app.points.router import router as points_router
    from app.privacy.router import router as privacy_router
    from app.reports.router import router as reports_router
    from app.stats.router import router as stats_router
    from app.stats.router import street_router
    from app.uploads.router import photos as photos_router
    from app.uploads.router import router as uploads_router
    from app.users.router import router as users_router

    # Routers are matched in order (twice per request, in this FastAPI). Each is a PrefixRouter: a path outside its
    # prefix passes it without trying its routes (routing.PrefixRouter). The hot ones still come first (reports; then
    # bookings and services, which a flash crowd hits: matching was ~25 % of a booking's CPU when they came 16th,
    # before the prefix check), the admin trees last.
    for r in (reports_router, bookings_router, services_router, slots_router, errands_router,
              auth_router, health_router, metrics_router, users_router, uploads_router, photos_router,
              notifications_router, street_router, stats_router, org_router,
              proposals_router, proposal_comments_router, deliberation_community_router, projects_router,
              announcements_router,
              groups_router, activities_router, points_router,
              privacy_router):  # issue 21
        include(app, r)
    # webhooks (issue 14): the admin API, and the events subscribers receive, documented as OpenAPI webhooks
    from app.notifications.webhooks_router import router as webhooks_router
    from app.reports.webhook_docs import router as report_webhooks

    include(app, webhooks_router)
    app.webhooks.include_router(report_webhooks)
    # Open311 GeoReport v2 (issue 19): a facade over reports, in the spec's formats and errors
    from app.open311.router import router as open311_router

    include(app, open311_router)
    # registered apps (issue 18): the admin API, and each operation's scope in openapi.json
    from app.clients.operations import annotate
    from app.clients.router import router as clients_router

    include(app, clients_router)
    plain_openapi = app.openapi

    def openapi_with_scopes() -> dict:
        if app.openapi_schema is None:
            annotate(plain_openapi())
        return app.openapi_schema or plain_openapi()

    app.openapi = openapi_with_scopes  # type: ignore[method-assign]
    # sign-in by SMS code and WeChat (issue 18)
    from app.auth.sms_router import router as sms_router
    from app.auth.wechat_router import router as wechat_router
    from app.notifications.wechat_router import router as wechat_subscriptions_router

    include(app, sms_router)
    include(app, wechat_router)
    include(app, wechat_subscriptions_router)
    idempotency.install(app)  # issue 18: after every router (it wraps the routes that take Idempotency-Key)
    return app


_app: FastAPI | None = None


def __getattr__(name: str) -> FastAPI:
    """`app.main:app` for uvicorn, built on first access so importing create_app has no side effects."""
    global _app
    if name != "app":
        raise AttributeError(name)
    if _app is None:
        _app = create_app()
    return _app

"""The authorization matrix: for every operation of the API, who may succeed on an object owned by someone else.

tests/quality/test_authz_matrix.py calls every operation in the OpenAPI document as every actor below and fails
when an actor outside `allowed` gets anything but a refusal (401 anonymous, 403/404 signed in), when an actor in
`allowed` does not get a 2xx, or when an operation has no entry here.

Adding a route = adding one entry to MATRIX, keyed by (METHOD, OpenAPI path):

    ("POST", "/api/v1/bookings/{booking_id}/cancel"): Entry(
        {"resident_a"},                                   # who may succeed
        lambda c: Req(path={"booking_id": ...}, json={...}),  # an object owned by someone else, a valid body
        why="only the resident who booked cancels"),

`Req` builds the request from a `Ctx` (the world, the actor about to call, helpers that create fresh objects).
The body must be valid for the allowed actors, so that for everyone else only authorization can refuse it.
Write operations get a fresh object per call when a success would change what the next actor sees (the ctx
helpers do that); actors who must be refused call first, on untouched data.

The world (tests/factories.py): street ⊃ c1 ⊃ g1 ⊃ {b1, b2} and street ⊃ c2 ⊃ g2 ⊃ b3; departments d1 (owned by
the street) and d2 (owned by c2); category `cat` (owned by the street). Actors:

    anonymous      no token
    resident_a     lives in b1 (c1): the owner of reports and uploads below
    resident_b     lives in b2: same community as resident_a
    resident_c     lives in b3: the other community
    worker_in      grid worker of g1 (resident_a's grid);   worker_out: of g2
    dept_in        staff of d1 (the department reports are dispatched to);  dept_out: of d2
    admin_street   admin of the street (everything)
    admin_c1       admin of community 1;  admin_c2: admin of community 2

Admin objects "owned by someone else" live in community 2: admin_c2 and admin_street may, admin_c1 must be
refused. Reports and uploads are resident_a's, in c1/g1, dispatched to d1 where the state needs a handler.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from app.openapi import current_openapi
from tests.bookings import authz as bk
from tests.factories import PASSWORD, World
from tests.images import PNG

ACTORS: tuple[str, ...] = ("anonymous", "resident_a", "resident_b", "resident_c", "worker_in", "worker_out",
                           "dept_in", "dept_out", "admin_c1", "admin_c2", "admin_street")

PUBLIC = frozenset(ACTORS)
SIGNED_IN = PUBLIC - {"anonymous"}
ADMINS = frozenset({"admin_c1", "admin_c2", "admin_street"})
OVER_C2 = frozenset({"admin_c2", "admin_street"})
OVER_C1 = frozenset({"admin_c1", "admin_street"})
# who sees resident_a's private report in g1 once it is dispatched to d1 (reporter, grid, handler, scope)
SEES_PRIVATE = frozenset({"resident_a", "worker_in", "dept_in"}) | OVER_C1
# who sees resident_a's public, submitted report (the community feed of c1, the grid, the scope)
SEES_PUBLIC = frozenset({"resident_a", "resident_b", "worker_in"}) | OVER_C1

PHOTO_PNG = PNG  # a real image: uploads are decoded
_seq = itertools.count(1)


# ---- requests and entries ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Req:
    """One request, minus method, path template and credentials."""

    path: dict[str, int] = field(default_factory=dict)
    json: Any = None
    data: dict[str, str] | None = None      # form fields
    files: dict[str, Any] | None = None     # multipart files
    params: dict[str, Any] | None = None    # query string
    headers: dict[str, str] | None = None   # extra headers (issue 18: X-Client-Id)


@dataclass
class Ctx:
    """What an entry builds its request from: the world, the actor about to call, helpers for fresh objects."""

    app: Any
    world: World
    client: httpx.AsyncClient
    actor: str
    shared: dict[str, Any]  # per entry: objects made once for every actor (lists, counts)

    @staticmethod
    def unique(prefix: str = "x") -> str:
        return f"{prefix}{next(_seq)}"

    @staticmethod
    def phone() -> str:
        return f"136{next(_seq):08d}"

    async def once(self, key: str, make: Callable[[], Awaitable[Any]]) -> Any:
        if key not in self.shared:
            self.shared[key] = await make()
        return self.shared[key]

    async def upload(self, owner: str = "resident_a") -> int:
        resp = await self.client.post("/api/v1/uploads", headers=self.world.headers(owner),
                                      files={"file": ("photo.png", PHOTO_PNG, "image/png")})
        assert resp.status_code == 201, resp.text
        return resp.json()["id"]

    async def report(self, state: str = "submitted", *, is_public: bool = False, reporter: str = "resident_a",
                     photo: bool = False):
        """A fresh report of `reporter` at their home, walked to `state` through the real lifecycle."""
        from tests.reports.factories import make_report

        fields: dict[str, Any] = {"photo_ids": [await self.upload(reporter)]} if photo else {}
        return await make_report(self.app, self.world, state=state, reporter=reporter, is_public=is_public,
                                 **fields)

    async def refresh_token(self, who: str = "resident_a") -> str:
        resp = await self.client.post("/api/v1/auth/token",
                                      data={"username": self.world.users[who].phone, "password": PASSWORD})
        assert resp.status_code == 200, resp.text
        return resp.json()["refresh_token"]

    async def category_in_c2(self) -> int:
        from app.org.models import Category

        async with self.app.state.db.session(write=True) as s:
            cat = Category(grid_id=self.world.c2.id, name="社区二物业服务", code=self.unique("c2cat"),
                           default_department_id=self.world.d2.id, respond_within_minutes=60,
                           resolve_within_minutes=600)
            s.add(cat)
            await s.flush()
            return cat.id


Build = Callable[[Ctx], "Req | Awaitable[Req]"]
Check = Callable[[Ctx, httpx.Response], None]


def _no_request(_: Ctx) -> Req:
    return Req()


@dataclass(frozen=True)
class Entry:
    allowed: frozenset[str]
    req: Build = _no_request
    why: str = ""
    # Besides 403/404: a 422 with one of these error codes also counts as a refusal. For objects named in the
    # *body* (a parent, a binding), out-of-scope answers like nonexistent: 422 invalid_reference.
    refused_codes: frozenset[str] = frozenset()
    check: Check | None = None  # extra assertion on an allowed actor's response (list filtering ...)
    endless: bool = False  # a live stream: success is the response starting with 2xx

    def __post_init__(self) -> None:
        object.__setattr__(self, "allowed", frozenset(self.allowed))
        object.__setattr__(self, "refused_codes", frozenset(self.refused_codes))
        unknown = self.allowed - PUBLIC
        assert not unknown, f"unknown actors {sorted(unknown)}"


async def build(entry: Entry, ctx: Ctx) -> Req:
    req = entry.req(ctx)
    return await req if inspect.isawaitable(req) else req


def openapi_operations() -> list[tuple[str, str]]:
    """Every (METHOD, path) of the API: the route table as the OpenAPI document states it."""
    methods = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}
    return [(m.upper(), p) for p, item in current_openapi()["paths"].items() for m in item if m in methods]


# ---- request builders ------------------------------------------------------------------------------------


def _grid(name: str) -> Build:
    return lambda c: Req(path={"grid_id": getattr(c.world, name).id})


def _ids_in(resp: httpx.Response) -> set[int]:
    body = resp.json()
    items = body["items"] if isinstance(body, dict) else body
    return {item["id"] for item in items}


def _holds_no_c2_grids(c: Ctx, resp: httpx.Response) -> None:
    if c.actor == "admin_c1":
        w = c.world
        assert not _ids_in(resp) & {w.c2.id, w.g2.id, w.b3.id}, "admin_c1 lists grids of community 2"


def _holds_no_c2_users(c: Ctx, resp: httpx.Response) -> None:
    if c.actor == "admin_c1":
        u = c.world.users
        c2 = {u[n].id for n in ("resident_c", "worker_out", "dept_out", "admin_c2")}
        assert not _ids_in(resp) & c2, "admin_c1 lists accounts of community 2"


async def _victim(c: Ctx):
    """resident_a's private report, dispatched to d1: made once per entry (lists and counts)."""
    return await c.once("victim", lambda: c.report("dispatched"))


async def _listing(c: Ctx) -> Req:
    await _victim(c)
    return Req()


def _lists_victim_iff_viewer(c: Ctx, resp: httpx.Response) -> None:
    victim = c.shared["victim"]
    assert (victim.id in _ids_in(resp)) == (c.actor in SEES_PRIVATE), \
        f"{c.actor} {'misses' if c.actor in SEES_PRIVATE else 'sees'} resident_a's private report"


def _counts_victim_iff_viewer(c: Ctx, resp: httpx.Response) -> None:
    assert resp.json()["total"] == (1 if c.actor in SEES_PRIVATE else 0), (c.actor, resp.json())


async def _similar(c: Ctx) -> Req:
    await c.once("public", lambda: c.report("submitted", is_public=True))
    return Req(params={"category_id": c.world.cat.id, "building_id": c.world.b1.id})


def _similar_only_for_viewers(c: Ctx, resp: httpx.Response) -> None:
    listed = c.shared["public"].id in _ids_in(resp)
    assert listed == (c.actor in SEES_PUBLIC), f"{c.actor}: similar lists={listed}"


def _figures_count_victim_iff_over_c1(c: Ctx, resp: httpx.Response) -> None:
    submitted = resp.json()["counts"]["submitted"]
    assert submitted == (1 if c.actor in OVER_C1 else 0), f"{c.actor}: figures counted {submitted} reports"


def _csv_has_victim_iff_over_c1(c: Ctx, resp: httpx.Response) -> None:
    listed = c.shared["victim"].number in resp.text
    assert listed == (c.actor in OVER_C1), f"{c.actor}: CSV lists resident_a's report={listed}"


def _dashboard_counts_own_community(c: Ctx, resp: httpx.Response) -> None:
    assert "resident-" not in resp.text, "no resident names in the dashboard"  # factory names are resident-N
    submitted = resp.json()["figures"]["counts"]["submitted"]
    assert submitted == (1 if c.actor in {"resident_a", "resident_b"} else 0), (c.actor, submitted)


def _report(state: str, *, is_public: bool = False, photo: bool = False) -> Build:
    async def make(c: Ctx) -> Req:
        r = await c.report(state, is_public=is_public, photo=photo)
        return Req(path={"report_id": r.id})
    return make


def _step(state: str, action: str, **extra: Any) -> Build:
    async def make(c: Ctx) -> Req:
        r = await c.report(state)
        return Req(path={"report_id": r.id}, json={"action": action, "expected_version": r.version, **extra})
    return make


async def _photo(c: Ctx) -> Req:
    r = await c.report("dispatched", photo=True)
    return Req(path={"report_id": r.id, "upload_id": r.photos[0].id})


async def _own_upload(c: Ctx) -> Req:
    return Req(path={"upload_id": await c.upload("resident_a")})


async def _signed_photo(c: Ctx) -> Req:
    from urllib.parse import parse_qs, urlsplit

    report = await c.report(photo=True)
    signed = urlsplit(report.photos[0].signed_url)
    return Req(path={"upload_id": report.photos[0].id}, params={k: v[0] for k, v in parse_qs(signed.query).items()})


async def _resident_a_notified(c: Ctx) -> int:
    """A notification in resident_a's inbox (their report accepted), made once per run."""
    async def make() -> int:
        await c.report("accepted")
        async with c.app.state.db.session(write=False) as s:
            from sqlalchemy import select

            from app.notifications.models import Notification
            return (await s.execute(select(Notification.id).where(
                Notification.user_id == c.world.users["resident_a"].id).limit(1))).scalar_one()
    return await c.once("notification", make)


async def _own_notification(c: Ctx) -> Req:
    return Req(path={"notification_id": await _resident_a_notified(c)})


async def _inbox(c: Ctx) -> Req:
    await _resident_a_notified(c)
    return Req()


def _inbox_is_own(c: Ctx, resp: httpx.Response) -> None:
    listed = [n["id"] for n in resp.json()["items"]]
    assert (c.shared["notification"] in listed) is (c.actor == "resident_a"), (c.actor, listed)


def _png(_: Ctx) -> Req:
    return Req(files={"file": ("photo.png", PHOTO_PNG, "image/png")})


async def _refresh(c: Ctx) -> Req:
    return Req(json={"refresh_token": await c.refresh_token("resident_a")})


async def _category_c2(c: Ctx) -> Req:
    return Req(path={"category_id": await c.once("cat_c2", c.category_in_c2)})


async def _patch_category_c2(c: Ctx) -> Req:
    return Req(path={"category_id": await c.once("cat_c2", c.category_in_c2)}, json={"name": c.unique("改名")})


# who lives or works at or below community 2 (or administers it): what community 2 owns is on their path
ON_C2_PATH = frozenset({"resident_c", "worker_out", "dept_out"}) | OVER_C2


async def _listing_c2_category(c: Ctx) -> Req:
    await c.once("cat_c2", c.category_in_c2)
    return Req()


def _lists_c2_object_iff_on_path(c: Ctx, resp: httpx.Response) -> None:
    listed = c.shared["cat_c2"] in _ids_in(resp)
    assert listed == (c.actor in ON_C2_PATH), f"{c.actor}: community 2's category listed={listed}"


def _lists_d2_iff_on_path(c: Ctx, resp: httpx.Response) -> None:
    listed = c.world.d2.id in _ids_in(resp)
    assert listed == (c.actor in ON_C2_PATH), f"{c.actor}: community 2's department listed={listed}"


# ---- the matrix ------------------------------------------------------------------------------------------

MATRIX: dict[tuple[str, str], Entry | tuple[Entry, ...]] = {
    # ops and health: public by design (restrict /metrics at the proxy)
    ("GET", "/healthz"): Entry(PUBLIC, why="liveness probe"),
    ("GET", "/readyz"): Entry(PUBLIC, why="readiness probe"),
    ("GET", "/metrics"): Entry(PUBLIC, why="Prometheus scrape; restricted to the monitoring network at the proxy"),
    ("GET", "/api/v1/places"): Entry(PUBLIC, lambda c: Req(params={"parent_id": c.world.g2.id}),
                                     why="public tree of active places, to pick a building at registration"),
    ("GET", "/api/v1/categories"): Entry(SIGNED_IN, _listing_c2_category, check=_lists_c2_object_iff_on_path,
                                         why="categories owned by the nodes above the caller"),
    ("GET", "/api/v1/departments"): Entry(SIGNED_IN, _no_request, check=_lists_d2_iff_on_path,
                                          why="departments owned by the nodes above the caller"),

    # auth: public; a refresh token is itself the credential, whoever presents it
    ("POST", "/api/v1/auth/register"): Entry(
        PUBLIC, lambda c: Req(json={"phone": c.phone(), "password": "a-good-pass-1", "display_name": "新居民",
                                    "building_id": c.world.b1.id,
                                    "privacy_notice_version": c.world.settings.privacy_notice_version}),
        why="self-registration of residents"),
    ("POST", "/api/v1/auth/token"): Entry(
        PUBLIC, lambda c: Req(data={"username": c.world.users["resident_a"].phone, "password": PASSWORD}),
        why="login: the password is the credential"),
    ("POST", "/api/v1/auth/refresh"): Entry(PUBLIC, _refresh, why="the refresh token is the credential"),
    ("POST", "/api/v1/auth/logout"): Entry({"resident_a"}, _refresh,
                                           why="one's own sign-in only: access token and refresh token"),

    # me: always the caller's own account, never someone else's
    ("GET", "/api/v1/me"): Entry(SIGNED_IN, why="own profile"),
    # the inbox: everyone their own; another's notification is not found
    ("GET", "/api/v1/notifications"): Entry(SIGNED_IN, _inbox, check=_inbox_is_own, why="own inbox only"),
    ("GET", "/api/v1/notifications/unread-count"): Entry(SIGNED_IN, why="own inbox only"),
    ("GET", "/api/v1/notifications/stream"): Entry(SIGNED_IN, endless=True,
                                                   why="own stream only (tests/notifications/test_stream.py)"),
    ("POST", "/api/v1/notifications/read-all"): Entry(SIGNED_IN, why="own inbox only"),
    ("POST", "/api/v1/notifications/{notification_id}/read"): Entry({"resident_a"}, _own_notification,
                                                                    why="only its recipient"),
    ("PATCH", "/api/v1/me"): Entry(SIGNED_IN, lambda c: Req(json={"display_name": "新名字"}), why="own profile"),
    ("POST", "/api/v1/me/password"): Entry(
        SIGNED_IN, lambda c: Req(json={"current_password": PASSWORD, "new_password": "another-pass-123"}),
        why="own password, with the current one"),

    # admin: accounts (objects of community 2)
    ("GET", "/api/v1/admin/users"): Entry(ADMINS, check=_holds_no_c2_users, why="admins list their scope only"),
    ("POST", "/api/v1/admin/users"): Entry(
        OVER_C2, lambda c: Req(json={"phone": c.phone(), "password": "a-good-pass-1", "display_name": "代录居民",
                                     "role": "resident", "building_id": c.world.b3.id}),
        refused_codes={"invalid_reference"}, why="bindings must lie in the creator's scope"),
    ("GET", "/api/v1/admin/users/{user_id}"): Entry(
        OVER_C2, lambda c: Req(path={"user_id": c.world.users["resident_c"].id}), why="accounts in scope"),
    ("PATCH", "/api/v1/admin/users/{user_id}"): Entry(
        OVER_C2, lambda c: Req(path={"user_id": c.world.users["resident_c"].id}, json={"display_name": "改名"}),
        why="accounts in scope"),

    # admin: grid tree
    ("GET", "/api/v1/admin/grids"): Entry(ADMINS, check=_holds_no_c2_grids, why="admins list their scope only"),
    ("POST", "/api/v1/admin/grids"): Entry(
        OVER_C2, lambda c: Req(json={"parent_id": c.world.g2.id, "level": "building", "name": c.unique("楼")}),
        refused_codes={"invalid_reference"}, why="add under a node in scope"),
    ("GET", "/api/v1/admin/grids/{grid_id}"): Entry(OVER_C2, _grid("g2"), why="nodes in scope"),
    ("PATCH", "/api/v1/admin/grids/{grid_id}"): Entry(
        OVER_C2, lambda c: Req(path={"grid_id": c.world.g2.id}, json={"name": c.unique("网格")}),
        why="nodes strictly below the scope node"),
    ("POST", "/api/v1/admin/grids/{grid_id}/retire"): Entry(OVER_C2, _grid("b3"),
                                                            why="nodes strictly below the scope node"),

    # admin: departments (d2 is owned by community 2)
    ("GET", "/api/v1/admin/departments"): Entry(ADMINS, why="admins list their scope only"),
    ("POST", "/api/v1/admin/departments"): Entry(
        OVER_C2, lambda c: Req(json={"grid_id": c.world.c2.id, "name": "新部门", "code": c.unique("dep")}),
        refused_codes={"invalid_reference"}, why="owner node in scope"),
    ("GET", "/api/v1/admin/departments/{department_id}"): Entry(
        OVER_C2, lambda c: Req(path={"department_id": c.world.d2.id}), why="owner node in scope"),
    ("PATCH", "/api/v1/admin/departments/{department_id}"): Entry(
        OVER_C2, lambda c: Req(path={"department_id": c.world.d2.id}, json={"name": c.unique("部门")}),
        why="owner node in scope"),
    ("POST", "/api/v1/admin/departments/{department_id}/retire"): Entry(
        OVER_C2, lambda c: Req(path={"department_id": c.world.d2.id}), why="owner node in scope"),

    # admin: categories (one owned by community 2, made for the test)
    ("GET", "/api/v1/admin/categories"): Entry(ADMINS, why="admins list their scope only"),
    ("POST", "/api/v1/admin/categories"): Entry(
        OVER_C2, lambda c: Req(json={"grid_id": c.world.c2.id, "name": "新分类", "code": c.unique("cat"),
                                     "default_department_id": c.world.d2.id, "respond_within_minutes": 60,
                                     "resolve_within_minutes": 600}),
        refused_codes={"invalid_reference"}, why="owner node in scope"),
    ("GET", "/api/v1/admin/categories/{category_id}"): Entry(OVER_C2, _category_c2, why="owner node in scope"),
    ("PATCH", "/api/v1/admin/categories/{category_id}"): Entry(OVER_C2, _patch_category_c2,
                                                               why="owner node in scope"),
    ("POST", "/api/v1/admin/categories/{category_id}/retire"): Entry(OVER_C2, _category_c2,
                                                                     why="owner node in scope"),

    # uploads: private to their owner
    ("POST", "/api/v1/uploads"): Entry(SIGNED_IN, _png, why="anyone signed in uploads their own photo"),
    ("GET", "/api/v1/uploads/{upload_id}"): Entry({"resident_a"}, _own_upload, why="only the uploader"),
    ("GET", "/api/v1/photos/{upload_id}"): Entry(
        PUBLIC, _signed_photo, why="a signed URL is the credential: whoever holds it, until it expires"),

    # statistics: admins over their scope; residents see their own community's aggregates
    ("GET", "/api/v1/stats/figures"): Entry(ADMINS, _listing, check=_figures_count_victim_iff_over_c1,
                                            why="figures cover the admin's scope only"),
    ("GET", "/api/v1/stats/series"): Entry(ADMINS, _listing, why="figures cover the admin's scope only"),
    ("GET", "/api/v1/stats/ranking"): Entry(ADMINS, _listing, why="ranking within the admin's scope"),
    ("GET", "/api/v1/stats/reports.csv"): Entry(ADMINS, _listing, check=_csv_has_victim_iff_over_c1,
                                                why="export of the admin's scope only"),
    ("GET", "/api/v1/stats/community"): Entry({"resident_a", "resident_b", "resident_c"}, _listing,
                                              check=_dashboard_counts_own_community,
                                              why="a resident's own community, aggregates only"),

    # reports (resident_a's, in c1/g1)
    ("POST", "/api/v1/reports"): Entry(
        {"resident_a", "resident_b", "worker_in"},
        lambda c: Req(json={"category_id": c.world.cat.id, "title": "楼道堆放杂物", "building_id": c.world.b1.id}),
        refused_codes={"invalid_reference"},
        why="residents report in their own community, grid workers in their grid; others may not file"),
    ("GET", "/api/v1/reports"): Entry(
        SIGNED_IN, _listing, check=_lists_victim_iff_viewer, why="each queue holds only what its caller may see"),
    ("GET", "/api/v1/reports/counts"): Entry(SIGNED_IN, _listing, check=_counts_victim_iff_viewer,
                                             why="counts agree with the queue"),
    ("GET", "/api/v1/reports/similar"): Entry(SIGNED_IN, _similar, check=_similar_only_for_viewers,
                                              why="only reports the caller may see"),
    ("GET", "/api/v1/reports/{report_id}"): (
        Entry(SEES_PRIVATE, _report("dispatched"), why="private: reporter, grid, handler, scope admins"),
        Entry(SEES_PUBLIC, _report("submitted", is_public=True), why="public: plus the reporter's community"),
    ),
    ("GET", "/api/v1/reports/{report_id}/timeline"): (
        Entry(SEES_PRIVATE, _report("dispatched"), why="private: reporter, grid, handler, scope admins"),
        Entry(SEES_PUBLIC, _report("submitted", is_public=True), why="public: plus the reporter's community"),
    ),
    ("POST", "/api/v1/reports/{report_id}/steps"): (
        Entry({"worker_in"} | OVER_C1, _step("submitted", "accept"), why="intake: the grid worker or scope admin"),
        Entry({"dept_in"}, _step("dispatched", "start"), why="only the handling department starts"),
        Entry({"resident_a"}, _step("submitted", "withdraw"), why="only the reporter withdraws"),
        Entry(OVER_C1, _step("dispatched", "supervise", note="请尽快处理"), why="督办: scope admins only"),
        Entry({"resident_a"}, _step("resolved", "rate", stars=5), why="评价: only the reporter rates"),
    ),
    ("POST", "/api/v1/reports/{report_id}/follow"): Entry(
        {"resident_b"}, _report("submitted", is_public=True),
        why="residents of the community follow public reports of others"),
    ("DELETE", "/api/v1/reports/{report_id}/follow"): Entry(
        SEES_PUBLIC, _report("submitted", is_public=True), why="anyone who sees the report may unfollow"),
    ("GET", "/api/v1/reports/{report_id}/photos/{upload_id}"): Entry(
        SEES_PRIVATE, _photo, why="photos of a report go to those who see the report"),

    # bookings (tests/bookings/authz.py): a service of community 2 provided by d2, resident_c's bookings and errand
    ("GET", "/api/v1/services"): Entry(SIGNED_IN, bk.services_listing, check=bk.lists_c2_service_iff_on_path,
                                       why="residents their community's services, staff their scope's"),
    ("POST", "/api/v1/services"): Entry(OVER_C2, bk.new_service, refused_codes={"invalid_reference"},
                                        why="admins add services to a community in their scope"),
    ("GET", "/api/v1/services/{service_id}"): Entry(bk.ON_C2_PATH, bk.service_path,
                                                    why="its community's residents and staff, its provider"),
    ("PATCH", "/api/v1/services/{service_id}"): Entry(OVER_C2, bk.patch_service, why="admins over its community"),
    ("GET", "/api/v1/services/{service_id}/slots"): Entry(bk.ON_C2_PATH, bk.service_path,
                                                          why="whoever sees the service"),
    ("POST", "/api/v1/services/{service_id}/slots"): Entry(OVER_C2, bk.new_slot, why="admins over its community"),
    ("POST", "/api/v1/services/{service_id}/timetable"): Entry(OVER_C2, bk.timetable,
                                                               why="admins over its community"),
    ("GET", "/api/v1/services/{service_id}/bookings"): Entry(bk.STAFF_C2, bk.service_path,
                                                             why="the service's staff: scope admins, its department"),
    ("POST", "/api/v1/slots/{slot_id}/cancel"): Entry(OVER_C2, bk.cancel_slot, why="admins over its community"),
    ("POST", "/api/v1/bookings"): Entry({"resident_c"}, bk.book, why="residents of the service's community book"),
    ("GET", "/api/v1/bookings/mine"): Entry(SIGNED_IN, bk.my_bookings, check=bk.lists_booking_iff_owner,
                                            why="one's own bookings only"),
    ("GET", "/api/v1/bookings/figures"): Entry(ADMINS, why="figures of the admin's scope only"),
    ("GET", "/api/v1/bookings/{booking_id}"): Entry({"resident_c"} | bk.STAFF_C2, bk.booking_path,
                                                    why="the resident and the service's staff"),
    ("GET", "/api/v1/bookings/{booking_id}/events"): Entry({"resident_c"} | bk.STAFF_C2, bk.booking_path,
                                                           why="the resident and the service's staff"),
    ("POST", "/api/v1/bookings/{booking_id}/cancel"): Entry({"resident_c"}, bk.cancel_booking,
                                                            why="only the resident who booked"),
    ("POST", "/api/v1/bookings/{booking_id}/attendance"): Entry(bk.STAFF_C2, bk.attendance,
                                                                why="the service's staff mark attendance"),
    ("POST", "/api/v1/bookings/{booking_id}/rating"): Entry({"resident_c"}, bk.rating,
                                                            why="only the resident who booked rates"),
    ("POST", "/api/v1/bookings/{booking_id}/errand-steps"): Entry({"worker_out"}, bk.errand_step,
                                                                  why="only the grid workers of the errand's grid"),
    ("GET", "/api/v1/errands"): Entry(SIGNED_IN, bk.errand_queue, check=bk.lists_errand_iff_keeper,
                                      why="each queue holds only its caller's errands"),
}


# ---- deliberation and announcements (issue 17): entries and their builders live beside the domain's tests ----
from tests.deliberation.authz import ENTRIES as _DELIBERATION  # noqa: E402 - needs Entry, Req, Ctx above

MATRIX.update(_DELIBERATION)


def entries(op: tuple[str, str]) -> tuple[Entry, ...]:
    found = MATRIX[op]
    return found if isinstance(found, tuple) else (found,)


# ---- webhooks (issue 14): subscriptions of community 2, made straight in the database ----------------------


async def _webhook_c2(c: Ctx) -> int:
    from app.notifications.webhooks_models import WebhookSubscription

    async with c.app.state.db.session(write=True) as s:
        sub = WebhookSubscription(grid_id=c.world.c2.id, url="http://127.0.0.1:9/hook", description="",
                                  event_types=["report.accepted"], secret="whsec_" + "A" * 44, is_active=True,
                                  version=1)
        s.add(sub)
        await s.flush()
        return sub.id


async def _delivery_c2(c: Ctx) -> tuple[int, int]:
    from datetime import UTC, datetime

    from app.notifications import outbox
    from app.notifications.webhooks_events import WebhookEventType

    async def make() -> tuple[int, int]:
        sub_id = await c.once("webhook_c2", lambda: _webhook_c2(c))
        async with c.app.state.db.session(write=True) as s:
            await outbox.enqueue(s, [sub_id], WebhookEventType.report_accepted, {"report_id": 1}, datetime.now(UTC))
        from sqlalchemy import select

        from app.notifications.webhooks_models import WebhookDelivery
        async with c.app.state.db.session(write=False) as s:
            return sub_id, (await s.execute(select(WebhookDelivery.id).where(
                WebhookDelivery.subscription_id == sub_id))).scalar_one()
    return await c.once("delivery_c2", make)


async def _webhook_path(c: Ctx) -> Req:
    return Req(path={"subscription_id": await c.once("webhook_c2", lambda: _webhook_c2(c))})


async def _fresh_webhook(c: Ctx) -> Req:  # edits bump the version: one subscription per call
    return Req(path={"subscription_id": await _webhook_c2(c)})


async def _patch_webhook(c: Ctx) -> Req:
    return Req(path={"subscription_id": await _webhook_c2(c)}, json={"expected_version": 1, "description": "改"})


async def _delivery_path(c: Ctx) -> Req:
    sub_id, delivery_id = await _delivery_c2(c)
    return Req(path={"subscription_id": sub_id, "delivery_id": delivery_id})


async def _listing_c2_webhook(c: Ctx) -> Req:
    await c.once("webhook_c2", lambda: _webhook_c2(c))
    return Req()


def _lists_c2_webhook_iff_over_c2(c: Ctx, resp: httpx.Response) -> None:
    listed = c.shared["webhook_c2"] in _ids_in(resp)
    assert listed == (c.actor in OVER_C2), f"{c.actor}: community 2's webhook listed={listed}"


MATRIX.update({
    ("GET", "/api/v1/admin/webhooks"): Entry(ADMINS, _listing_c2_webhook, check=_lists_c2_webhook_iff_over_c2,
                                             why="admins list their scope's subscriptions only"),
    ("POST", "/api/v1/admin/webhooks"): Entry(
        OVER_C2, lambda c: Req(json={"grid_id": c.world.c2.id, "url": "http://127.0.0.1:9/hook",
                                     "event_types": ["report.accepted"]}),
        refused_codes={"invalid_reference"}, why="for a community or street in scope"),
    ("GET", "/api/v1/admin/webhooks/{subscription_id}"): Entry(OVER_C2, _webhook_path, why="owner node in scope"),
    ("PATCH", "/api/v1/admin/webhooks/{subscription_id}"): Entry(OVER_C2, _patch_webhook, why="owner node in scope"),
    ("DELETE", "/api/v1/admin/webhooks/{subscription_id}"): Entry(OVER_C2, _fresh_webhook,
                                                                  why="owner node in scope"),
    ("POST", "/api/v1/admin/webhooks/{subscription_id}/rotate-secret"): Entry(OVER_C2, _webhook_path,
                                                                              why="owner node in scope"),
    ("GET", "/api/v1/admin/webhooks/{subscription_id}/deliveries"): Entry(OVER_C2, _webhook_path,
                                                                          why="owner node in scope"),
    ("GET", "/api/v1/admin/webhooks/{subscription_id}/deliveries/{delivery_id}"): Entry(
        OVER_C2, _delivery_path, why="owner node in scope"),
    ("POST", "/api/v1/admin/webhooks/{subscription_id}/deliveries/{delivery_id}/redeliver"): Entry(
        OVER_C2, _delivery_path, why="owner node in scope"),
})
# groups, activities and points (issue 16): their entries live beside their builders
from tests.quality.authz_groups_points import ENTRIES as _GROUPS_AND_POINTS  # noqa: E402

MATRIX.update(_GROUPS_AND_POINTS)

# privacy (issue 21): the notice is public; each signed-in person accepts it and reads their own consents
MATRIX.update({
    ("GET", "/api/v1/privacy/notice"): Entry(PUBLIC, why="the privacy notice is public"),
    ("POST", "/api/v1/privacy/consents"): Entry(
        SIGNED_IN, lambda c: Req(json={"version": c.world.settings.privacy_notice_version}),
        why="one's own acceptance"),
    ("GET", "/api/v1/privacy/consents"): Entry(SIGNED_IN, why="one's own acceptances"),
})
# export and erasure (issue 21): always the caller's own account; staff are deactivated by admins, never erased
RESIDENTS = frozenset({"resident_a", "resident_b", "resident_c"})


def _export_is_own(c: Ctx, resp: httpx.Response) -> None:
    assert resp.json()["profile"]["id"] == c.world.users[c.actor].id, f"{c.actor}: someone else's export"


MATRIX.update({
    ("GET", "/api/v1/me/export"): Entry(SIGNED_IN, check=_export_is_own, why="own data only"),
    ("POST", "/api/v1/me/erase"): Entry(RESIDENTS, lambda c: Req(json={"method": "password", "password": PASSWORD}),
                                        why="own account, residents only, with the password"),
})
# registered apps (issue 18)
from tests.quality.authz_clients import ENTRIES as _CLIENTS  # noqa: E402

MATRIX.update(_CLIENTS)
# sign-in by SMS code and WeChat (issue 18)
from tests.quality.authz_signin import ENTRIES as _SIGNIN  # noqa: E402

MATRIX.update(_SIGNIN)

# issue 19: the Open311 facade (public GETs; POST authenticated by the api_key field)
from tests.open311.authz import ENTRIES as _OPEN311  # noqa: E402 - needs Entry, Req, Ctx above

MATRIX.update(_OPEN311)
# a street's figures (issue 20): admins whose scope holds the street
_STREET = lambda c: Req(path={"street_id": c.world.street.id})  # noqa: E731
MATRIX.update({
    ("GET", "/api/v1/stats/streets/{street_id}"): Entry({"admin_street"}, _STREET,
                                                        why="a street's figures: its admins only"),
    ("GET", "/api/v1/stats/streets/{street_id}/communities"): Entry({"admin_street"}, _STREET,
                                                                    why="a street's figures: its admins only"),
    ("GET", "/api/v1/stats/streets/{street_id}/ranking"): Entry({"admin_street"}, _STREET,
                                                                why="a street's ranking: its admins only"),
})

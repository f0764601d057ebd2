"""Seed a benchmark database fast: Alembic for the schema, then bulk inserts (COPY on PostgreSQL, executemany on
SQLite), never the HTTP API.

The world: one street (街道), 20 communities, 100 grids, 2000 buildings, ~20k residents (one known password,
hashed once), grid workers, department staff, admins; the demo's departments and categories. Reports are
spread over the last 365 days (more in daytime, China time) and each one is *simulated* along the lifecycle:
delays are drawn per step and the report's state is wherever `now` cuts its timeline, so recent reports are
open and old ones closed, with a few stuck (overdue) ones, rejections, withdrawals, merges, ratings, reopens
(差评 → 重办) and auto-closes. Every report has its events (submit + each step taken), version = number of
events, ratings on the rated ones, numbers unique per street per day (China time), and report_counters equal
to the last number given each day.
"""

from __future__ import annotations

import bisect
import json
import multiprocessing
import random
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from app.core.config import Settings
from app.demo import CATEGORIES, DEPARTMENTS
from app.reports.lifecycle import STEP_BY_ACTION
from app.reports.numbers import china_day
from app.stats import rollup_math

# the benchmark's residents have accepted the current privacy notice (issue 21: otherwise 403 on every request)
NOTICE_VERSION = Settings.model_fields["privacy_notice_version"].default

PASSWORD = "bench-password-1"   # every seeded account's password (hashed once, reused)
N_COMMUNITIES = 20
GRIDS_PER_COMMUNITY = 5
BUILDINGS_PER_GRID = 20
RESIDENTS_PER_BUILDING = 10
POWER_USERS = 100               # building leads who report a lot: "my reports" has full pages at every scale
DAYS = 365
MIN = 60.0
HOUR = 3600.0
DAY = 86400.0

TITLES = {
    "sanitation": ["楼道堆放杂物", "垃圾桶满溢未清运", "小区绿化带有垃圾", "宠物粪便无人清理", "楼下污水外溢"],
    "municipal": ["路灯不亮", "井盖松动", "人行道地砖破损", "路面坑洼积水", "交通指示牌歪斜"],
    "utilities": ["停水无通知", "楼栋停电", "燃气异味", "水压过低", "暖气不热"],
    "property": ["电梯故障", "门禁损坏", "楼顶漏水", "消防通道被占", "地下车库照明不足"],
    "illegal-building": ["楼顶违章搭建", "一楼私自扩建", "占用公共绿地搭棚", "阳台违规外扩"],
    "neighbour-dispute": ["楼上噪音扰民", "邻居占用公共走廊", "空调外机滴水", "宠物狗夜间吠叫"],
    "safety-hazard": ["电动车楼道充电", "外墙瓷砖脱落", "树木倒伏隐患", "消防栓无水"],
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红建国建华志强海燕文"
TAGS = ["办理及时", "态度好", "结果满意", "沟通清楚", "没解决", "太慢了"]
STAR_WEIGHTS = [(5, 50), (4, 25), (3, 12), (2, 8), (1, 5)]
# China-time hour of day weights (people report in daytime)
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 2, 4, 8, 12, 12, 11, 10, 9, 10, 11, 11, 10, 10, 11, 11, 9, 6, 3, 2]


# ---- the world ------------------------------------------------------------------------------------------------


@dataclass
class Cat:
    id: int
    code: str
    dept_id: int
    respond: float  # seconds
    resolve: float
    titles: list[str]


@dataclass
class World:
    now: datetime
    password_hash: str
    street_id: int = 1
    grids: list[tuple] = field(default_factory=list)           # grid rows (id, parent_id, level, name, code, path)
    community_ids: list[int] = field(default_factory=list)
    grid_ids: list[int] = field(default_factory=list)
    building_grid: dict[int, int] = field(default_factory=dict)      # building -> grid
    grid_community: dict[int, int] = field(default_factory=dict)     # grid -> community
    community_buildings: dict[int, list[int]] = field(default_factory=dict)
    building_coords: dict[int, tuple[float, float]] = field(default_factory=dict)
    departments: list[tuple[int, str, str]] = field(default_factory=list)  # id, name, code
    cats: list[Cat] = field(default_factory=list)
    users: list[dict[str, Any]] = field(default_factory=list)
    user_grids: list[tuple[int, int]] = field(default_factory=list)
    residents: list[tuple[int, int]] = field(default_factory=list)   # (user id, building id)
    power_users: list[tuple[int, int]] = field(default_factory=list)
    worker_of_grid: dict[int, int] = field(default_factory=dict)     # grid -> its single-grid worker
    staff_of_dept: dict[int, int] = field(default_factory=dict)


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def build_world(now: datetime, password_hash: str, rng: random.Random) -> World:
    w = World(now=now, password_hash=password_hash)
    gid = 1
    w.grids.append((gid, None, "street", "幸福街道", "bench-street", "/1/"))
    street_path = "/1/"
    gid += 1
    for c in range(N_COMMUNITIES):
        cid = gid
        gid += 1
        cpath = f"{street_path}{cid}/"
        w.grids.append((cid, 1, "community", f"第{c + 1}社区", f"bench-c{c + 1}", cpath))
        w.community_ids.append(cid)
        w.community_buildings[cid] = []
        for g in range(GRIDS_PER_COMMUNITY):
            grid_id = gid
            gid += 1
            gpath = f"{cpath}{grid_id}/"
            w.grids.append((grid_id, cid, "grid", f"第{c + 1}社区第{g + 1}网格", f"bench-c{c + 1}-g{g + 1}", gpath))
            w.grid_ids.append(grid_id)
            w.grid_community[grid_id] = cid
            for b in range(BUILDINGS_PER_GRID):
                bid = gid
                gid += 1
                w.grids.append((bid, grid_id, "building", f"{g + 1}{b + 1:02d}号楼",
                                f"bench-c{c + 1}-g{g + 1}-b{b + 1}", f"{gpath}{bid}/"))
                w.building_grid[bid] = grid_id
                w.community_buildings[cid].append(bid)
                w.building_coords[bid] = (31.20 + c * 0.004 + b * 0.0002, 121.45 + g * 0.003 + b * 0.0001)
    dept_ids = {}
    for i, (name, code) in enumerate(DEPARTMENTS, start=1):
        w.departments.append((i, name, f"bench-{code}"))
        dept_ids[code] = i
    for i, (name, code, dept_code, respond, resolve) in enumerate(CATEGORIES, start=1):
        w.cats.append(Cat(i, code, dept_ids[dept_code], respond * MIN, resolve * MIN, TITLES.get(code, [name])))

    uid = 0

    def user(role: str, phone: str, **kw: Any) -> int:
        nonlocal uid
        uid += 1
        w.users.append(dict(id=uid, phone=phone, role=role, display_name=_name(rng), **kw))
        return uid

    user("admin", "13600000000", scope_grid_id=1)
    for i, cid in enumerate(w.community_ids, start=1):
        user("admin", f"136{i:08d}", scope_grid_id=cid)
    for dept_id, _, _ in w.departments:
        for k in range(2):
            staff = user("department", f"137{dept_id * 10 + k:08d}", department_id=dept_id)
            w.staff_of_dept.setdefault(dept_id, staff)
    for i, grid_id in enumerate(w.grid_ids, start=1):
        worker = user("grid_worker", f"139{i:08d}")
        w.user_grids.append((worker, grid_id))
        w.worker_of_grid[grid_id] = worker
    # 网格长: one per community, keeping two of its grids (a multi-grid queue)
    for i, cid in enumerate(w.community_ids, start=1):
        lead = user("grid_worker", f"139{9000 + i:08d}")
        grids = [g for g in w.grid_ids if w.grid_community[g] == cid][:2]
        w.user_grids.extend((lead, g) for g in grids)
    n = 0
    lead_every = max(1, len(w.building_grid) // POWER_USERS)
    for b, (bid, grid_id) in enumerate(w.building_grid.items()):
        cid = w.grid_community[grid_id]
        for k in range(RESIDENTS_PER_BUILDING):
            n += 1
            lead = k == 0 and b % lead_every == 0
            rid = user("resident", f"138{n:08d}", building_id=bid, community_id=cid, is_building_lead=lead)
            w.residents.append((rid, bid))
            if lead:
                w.power_users.append((rid, bid))
    return w


# ---- the reports: a simulation of each one's lifecycle --------------------------------------------------------

REPORT_COLS = (
    "id", "number", "street_id", "community_id", "grid_id", "building_id", "grid_path", "category_id", "title",
    "description", "lat", "lng", "address", "is_public", "hide_reporter", "source", "reporter_id", "filed_by_id",
    "state", "version", "handler_department_id", "handler_user_id", "escalated_to_grid_id", "merged_into_id",
    "reopen_count", "rating", "rated_at", "auto_closed", "respond_by", "responded_at", "resolve_by",
    "accepted_at", "dispatched_at", "resolved_at", "closed_at", "hidden_at", "hidden_reason", "follower_count",
    "created_at", "updated_at", "overdue_notified_for",
)
EVENT_COLS = ("id", "report_id", "action", "actor_id", "actor_role", "from_state", "to_state", "note", "is_public",
              "note_public", "photo_ids", "data", "created_at")
RATING_COLS = ("id", "report_id", "rater_id", "cycle", "stars", "tags", "comment", "created_at")

def _row(r: dict[str, Any], now: datetime) -> tuple:
    """The report's row as the seed's `now` leaves it. The seeded world is one where the worker runs: it has
    announced every deadline passed before `now` (its overdue sweep sets overdue_notified_for = due_at, which the
    figures' roll-ups count: rollup_math `overdue`)."""
    due = rollup_math.due(r)
    r["overdue_notified_for"] = due if due is not None and due < now else None
    return tuple(r[c] for c in REPORT_COLS)


_VIS = {a.value: (s.public_event, s.note_public) for a, s in STEP_BY_ACTION.items()}
_NOTES = {"accept": "已受理", "reject": "不属于受理范围", "resolve": "已处理完毕，请查看", "start": None,
          "dispatch": None, "withdraw": None, "merge": "重复事项，已合并"}


@dataclass
class Ids:
    report: int = 0
    event: int = 0
    rating: int = 0


@dataclass
class Counters:
    """Last number given per (street, China day)."""

    last: dict[tuple[int, str], int] = field(default_factory=dict)

    def next(self, street_id: int, created: datetime) -> str:
        day = china_day(created)
        seq = self.last.get((street_id, day), 0) + 1
        self.last[(street_id, day)] = seq
        return f"BS{day}-{seq:04d}"


class ReportMaker:
    """Turns (created_at, reporter, building) into the report row, its events and ratings."""

    def __init__(self, w: World, rng: random.Random, ids: Ids, counters: Counters):
        self.w, self.rng, self.ids, self.counters = w, rng, ids, counters
        self.last_in_grid: dict[int, int] = {}
        self.stars = [s for s, _ in STAR_WEIGHTS]
        self.star_cum = list(_cumulative([wt for _, wt in STAR_WEIGHTS]))

    def _stars(self, good_only: bool = False) -> int:
        if good_only:
            return self.rng.choice((3, 4, 4, 5, 5, 5))
        x = self.rng.random() * self.star_cum[-1]
        return self.stars[bisect.bisect(self.star_cum, x)]

    def make(self, created: datetime, reporter_id: int, building_id: int, *, simulate: bool = True,
             events: list, ratings: list) -> tuple:
        w, rng, now = self.w, self.rng, self.w.now
        self.ids.report += 1
        rid = self.ids.report
        grid_id = w.building_grid[building_id]
        community_id = w.grid_community[grid_id]
        cat = w.cats[rng.randrange(len(w.cats))]
        worker = w.worker_of_grid[grid_id]
        u = rng.random()
        if u < 0.04:
            source, filed_by, reporter_role = "patrol", worker, "grid_worker"
            reporter_id = worker
        elif u < 0.05:
            source, filed_by, reporter_role = "hotline", worker, "grid_worker"
        else:
            source = "app" if u < 0.80 else "mini_program"
            filed_by, reporter_role = reporter_id, "resident"
        lat = lng = None
        if rng.random() < 0.6:
            lat, lng = w.building_coords[building_id]
            lat += rng.uniform(-0.0005, 0.0005)
            lng += rng.uniform(-0.0005, 0.0005)
        title = rng.choice(cat.titles)
        r: dict[str, Any] = dict(
            id=rid, number=self.counters.next(w.street_id, created), street_id=w.street_id, community_id=community_id,
            grid_id=grid_id, building_id=building_id, grid_path=f"/{w.street_id}/{community_id}/{grid_id}/",
            category_id=cat.id, title=title, description=f"{title}，请尽快处理。", lat=lat, lng=lng,
            address=None, is_public=rng.random() < 0.85, hide_reporter=rng.random() < 0.1, source=source,
            reporter_id=reporter_id, filed_by_id=filed_by, state="submitted", version=0,
            handler_department_id=None, handler_user_id=None, escalated_to_grid_id=None, merged_into_id=None,
            reopen_count=0, rating=None, rated_at=None, auto_closed=False,
            respond_by=created + timedelta(seconds=cat.respond), responded_at=None, resolve_by=None,
            accepted_at=None, dispatched_at=None, resolved_at=None, closed_at=None, hidden_at=None,
            hidden_reason=None, follower_count=0, created_at=created, updated_at=created)

        def event(action: str, actor: int | None, role: str, frm: str | None, to: str, at: datetime,
                  note: str | None = None, data: dict | None = None) -> None:
            self.ids.event += 1
            public, note_public = _VIS.get(action, (True, True))
            events.append((self.ids.event, rid, action, actor, role, frm, to, note, public, note_public and public,
                           "[]", json.dumps(data or {}, ensure_ascii=False), at))
            r["state"] = to
            r["version"] += 1
            r["updated_at"] = at

        event("submit", filed_by, reporter_role, None, "submitted", created, data={"source": source})
        prev = self.last_in_grid.get(grid_id)
        self.last_in_grid[grid_id] = rid
        if not simulate:
            return _row(r, now)

        t = created
        def due(delay: float) -> datetime | None:  # noqa: E306 - the next step's time, or None if after now
            nonlocal t
            nt = t + timedelta(seconds=delay)
            if nt > now:
                return None
            t = nt
            return nt

        u = rng.random()
        if u < 0.02:  # withdrawn by the reporter before intake
            if (at := due(rng.uniform(10 * MIN, 12 * HOUR))) is not None:
                event("withdraw", reporter_id, reporter_role, "submitted", "withdrawn", at)
            return _row(r, now)
        if u < 0.05:  # rejected at intake
            if (at := due(cat.respond * rng.uniform(0.02, 0.9))) is not None:
                r["responded_at"] = at
                event("reject", worker, "grid_worker", "submitted", "rejected", at, note=_NOTES["reject"])
            return _row(r, now)
        if u < 0.06 and prev is not None:  # a duplicate merged into an earlier report of the grid
            if (at := due(rng.uniform(10 * MIN, 6 * HOUR))) is not None:
                r["merged_into_id"] = prev
                event("merge", worker, "grid_worker", "submitted", "merged", at, note=_NOTES["merge"],
                      data={"target_report_id": prev, "moved_followers": 0})
            return _row(r, now)
        stuck = rng.random()
        if stuck < 0.01:  # never taken in: overdue for intake
            return _row(r, now)
        # 受理: mostly within the respond limit, ~15% late
        if (at := due(cat.respond * rng.uniform(0.03, 1.15))) is None:
            return _row(r, now)
        r.update(accepted_at=at, responded_at=at, resolve_by=at + timedelta(seconds=cat.resolve))
        event("accept", worker, "grid_worker", "submitted", "accepted", at, note=_NOTES["accept"])
        if stuck < 0.015:
            return _row(r, now)
        if (at := due(rng.uniform(2 * MIN, 3 * HOUR))) is None:
            return _row(r, now)
        to_dept = rng.random() < 0.85
        if to_dept:
            handler, handler_role = w.staff_of_dept[cat.dept_id], "department"
            r.update(handler_department_id=cat.dept_id, dispatched_at=at)
            data = {"department_id": cat.dept_id}
        else:
            handler, handler_role = worker, "grid_worker"
            r.update(handler_user_id=worker, dispatched_at=at)
            data = {"handler_user_id": worker}
        event("dispatch", worker, "grid_worker", "accepted", "dispatched", at, data=data)
        if stuck < 0.02:
            return _row(r, now)
        for cycle in range(2):
            if (at := due(rng.uniform(10 * MIN, 24 * HOUR))) is None:
                return _row(r, now)
            event("start", handler, handler_role, "dispatched", "in_progress", at)
            if stuck < 0.025:
                return _row(r, now)
            if (at := due(cat.resolve * rng.uniform(0.05, 1.2))) is None:
                return _row(r, now)
            r["resolved_at"] = at
            event("resolve", handler, handler_role, "in_progress", "resolved", at, note=_NOTES["resolve"])
            resolved_at = at
            if rng.random() < 0.7 and (at := due(rng.uniform(1 * HOUR, 6 * DAY))) is not None:
                stars = self._stars(good_only=cycle > 0)
                self.ids.rating += 1
                tags = [rng.choice(TAGS[:4])] if stars >= 4 else ([rng.choice(TAGS[4:])] if stars <= 2 else [])
                ratings.append((self.ids.rating, rid, reporter_id, r["reopen_count"], stars,
                                json.dumps(tags, ensure_ascii=False), None, at))
                r.update(rating=stars, rated_at=at)
                if stars >= 3:
                    r["closed_at"] = at
                    event("rate", reporter_id, reporter_role, "resolved", "closed", at,
                          data={"stars": stars, "tags": tags, "outcome": "closed"})
                    return _row(r, now)
                # 差评: reopened to the same handler (重办) with a new deadline
                r.update(reopen_count=r["reopen_count"] + 1, resolved_at=None,
                         resolve_by=at + timedelta(seconds=cat.resolve))
                event("rate", reporter_id, reporter_role, "resolved", "dispatched", at,
                      data={"stars": stars, "tags": tags, "outcome": "dispatched"})
                continue
            # unrated: the worker closes it after AUTO_CLOSE_DAYS (7)
            auto = resolved_at + timedelta(days=7, seconds=rng.uniform(0, HOUR))
            if auto <= now:
                t = auto
                r.update(closed_at=auto, auto_closed=True)
                event("auto_close", None, "system", "resolved", "closed", auto, data={"after_days": 7})
            return _row(r, now)
        return _row(r, now)


def _cumulative(weights: list[float]) -> Iterator[float]:
    total = 0.0
    for x in weights:
        total += x
        yield total


def creation_times(n: int, now: datetime, rng: random.Random) -> list[datetime]:
    """n moments over the last DAYS days, daytime-heavy in China time, oldest first."""
    cum = list(_cumulative(HOUR_WEIGHTS))
    # midnight China time of the first day, in UTC
    start_day = (now - timedelta(days=DAYS)).replace(hour=16, minute=0, second=0, microsecond=0)
    offsets = []
    limit = (now - start_day).total_seconds() - 60
    while len(offsets) < n:
        hour = bisect.bisect(cum, rng.random() * cum[-1])
        x = rng.randrange(DAYS + 1) * DAY + hour * HOUR + rng.random() * HOUR
        if x < limit:
            offsets.append(x)
    offsets.sort()
    return [start_day + timedelta(seconds=x) for x in offsets]


def reporters(w: World, n: int, rng: random.Random) -> list[tuple[int, int]]:
    """(resident, building) of n reports: power users file ~30 each plus 2% of the volume; the rest is uniform;
    10% of reports are about another building of the reporter's community."""
    power_share = min(0.5, (POWER_USERS * 30 + 0.02 * n) / n)
    out = []
    for _ in range(n):
        rid, bid = rng.choice(w.power_users) if rng.random() < power_share else rng.choice(w.residents)
        if rng.random() < 0.1:
            bid = rng.choice(w.community_buildings[w.grid_community[w.building_grid[bid]]])
        out.append((rid, bid))
    return out


def report_chunks(w: World, n: int, rng: random.Random, ids: Ids, counters: Counters,
                  chunk: int = 50_000) -> Iterator[tuple[list, list, list]]:
    times = creation_times(n, w.now, rng)
    who = reporters(w, n, rng)
    maker = ReportMaker(w, rng, ids, counters)
    for start in range(0, n, chunk):
        reports: list = []
        events: list = []
        ratings: list = []
        for i in range(start, min(n, start + chunk)):
            reports.append(maker.make(times[i], who[i][0], who[i][1], events=events, ratings=ratings))
        yield reports, events, ratings


def _producer(queue, w: World, n: int, seed: int, chunk: int) -> None:  # noqa: ANN001 - a multiprocessing queue
    ids, counters = Ids(), Counters()
    for item in report_chunks(w, n, random.Random(seed), ids, counters, chunk):
        queue.put(item)
    queue.put(("done", counters.last, ids))


def generated_chunks(w: World, n: int, seed: int, ids: Ids, counters: Counters,
                     chunk: int = 50_000) -> Iterator[tuple[list, list, list]]:
    """report_chunks() computed in a forked process, so generating the next chunk overlaps loading this one;
    `ids` and `counters` are filled in at the end."""
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue(maxsize=2)
    proc = ctx.Process(target=_producer, args=(queue, w, n, seed, chunk), daemon=True)
    proc.start()
    try:
        while True:
            item = queue.get(timeout=900)
            if item[0] == "done":
                counters.last.update(item[1])
                ids.report, ids.event, ids.rating = item[2].report, item[2].event, item[2].rating
                break
            yield item
    finally:
        proc.join(timeout=30)
        if proc.is_alive():
            proc.kill()


# ---- rows of the small tables ---------------------------------------------------------------------------------


def small_tables(w: World) -> dict[str, tuple[tuple[str, ...], list[tuple]]]:
    t0 = w.now - timedelta(days=DAYS + 30)
    grids = [(gid, parent, level, name, code, path, None, t0, t0) for gid, parent, level, name, code, path in w.grids]
    depts = [(i, 1, name, code, None, None, t0, t0) for i, name, code in w.departments]
    cats = [(c.id, 1, TITLES_NAME[c.code], f"bench-{c.code}", c.dept_id, int(c.respond // MIN),
             int(c.resolve // MIN), None, t0, t0) for c in w.cats]
    users = [(u["id"], u["phone"], w.password_hash, u["display_name"], u["role"], True,
              u.get("is_building_lead", False), u.get("building_id"), u.get("community_id"),
              u.get("department_id"), u.get("scope_grid_id"), None, t0, t0,
              NOTICE_VERSION if u["role"] == "resident" else None) for u in w.users]
    return {
        "grids": (("id", "parent_id", "level", "name", "code", "path", "retired_at", "created_at", "updated_at"),
                  grids),
        "departments": (("id", "grid_id", "name", "code", "phone", "retired_at", "created_at", "updated_at"), depts),
        "categories": (("id", "grid_id", "name", "code", "default_department_id", "respond_within_minutes",
                        "resolve_within_minutes", "retired_at", "created_at", "updated_at"), cats),
        "users": (("id", "phone", "password_hash", "display_name", "role", "is_active", "is_building_lead",
                   "building_id", "community_id", "department_id", "scope_grid_id", "password_changed_at",
                   "created_at", "updated_at", "privacy_version"), users),
        "user_grids": (("user_id", "grid_id"), list(w.user_grids)),
    }


TITLES_NAME = {code: name for name, code, *_ in CATEGORIES}
ID_TABLES = ("grids", "departments", "categories", "users", "reports", "report_events", "report_ratings")


# ---- writers --------------------------------------------------------------------------------------------------


@dataclass
class SeedStats:
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)

    def add(self, table: str, n: int) -> None:
        self.rows[table] = self.rows.get(table, 0) + n

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def hash_password_once() -> str:
    """The production argon2id cost (so logins cost what they cost in production)."""
    from app.core.config import Settings
    from app.core.security import hash_password

    return hash_password(Settings(), PASSWORD)


async def seed_postgresql(dsn: str, n_reports: int, *, seed: int = 20261122, log=print) -> SeedStats:
    """Bulk-load an empty, migrated PostgreSQL database with asyncpg COPY."""
    import asyncpg

    stats = SeedStats()
    started = time.perf_counter()
    rng = random.Random(seed)
    w = build_world(datetime.now(UTC), hash_password_once(), rng)
    ids, counters = Ids(), Counters()
    conn = await asyncpg.connect(dsn)
    try:
        # bulk load: the generator keeps references consistent, so skip per-row FK triggers; no fsync wait
        await conn.execute("SET session_replication_role = replica; SET synchronous_commit = off")
        async with conn.transaction():
            for table, (cols, rows) in small_tables(w).items():
                await conn.copy_records_to_table(table, records=rows, columns=list(cols))
                stats.add(table, len(rows))
        stats.phases["world"] = time.perf_counter() - started
        gen_s = copy_s = 0.0
        t = time.perf_counter()
        for reports, events, ratings in generated_chunks(w, n_reports, seed + 1, ids, counters):
            t1 = time.perf_counter()
            gen_s += t1 - t
            async with conn.transaction():
                await conn.copy_records_to_table("reports", records=reports, columns=list(REPORT_COLS))
                await conn.copy_records_to_table("report_events", records=events, columns=list(EVENT_COLS))
                if ratings:
                    await conn.copy_records_to_table("report_ratings", records=ratings, columns=list(RATING_COLS))
            t = time.perf_counter()
            copy_s += t - t1
            stats.add("reports", len(reports))
            stats.add("report_events", len(events))
            stats.add("report_ratings", len(ratings))
            done = stats.rows["reports"]
            log(f"  seeded {done:>9,} / {n_reports:,} reports ({done / (t - started):,.0f} reports/s)")
        counter_rows = [(s, d, last) for (s, d), last in counters.last.items()]
        await conn.copy_records_to_table("report_counters", records=counter_rows, columns=["street_id", "day", "last"])
        stats.add("report_counters", len(counter_rows))
        for table in ID_TABLES:
            await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)")
        stats.phases["wait_for_generator"] = gen_s
        stats.phases["copy"] = copy_s
        t = time.perf_counter()
        await conn.execute("SET session_replication_role = origin")
        await conn.execute("VACUUM (ANALYZE)")  # planner statistics and the visibility map (index-only scans)
        stats.phases["vacuum_analyze"] = time.perf_counter() - t
    finally:
        await conn.close()
    stats.seconds = time.perf_counter() - started
    return stats


def _sqlite_rows(rows: list[tuple], cols: tuple[str, ...]) -> list[tuple]:
    dt_idx = [i for i, c in enumerate(cols) if c.endswith("_at") or c in ("respond_by", "resolve_by",
                                                                          "overdue_notified_for")]
    if not dt_idx:
        return rows
    out = []
    for row in rows:
        row = list(row)
        for i in dt_idx:
            v = row[i]
            if v is not None:
                row[i] = v.replace(tzinfo=None).isoformat(" ", "microseconds")
        out.append(row)
    return out


def _sqlite_insert(conn: sqlite3.Connection, table: str, cols: tuple[str, ...], rows: list[tuple]) -> None:
    sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    conn.executemany(sql, _sqlite_rows(rows, cols))


def seed_sqlite(path: str, n_reports: int, *, seed: int = 20261122, log=print) -> SeedStats:
    """Bulk-load an empty, migrated SQLite file with executemany in large transactions."""
    stats = SeedStats()
    started = time.perf_counter()
    rng = random.Random(seed)
    w = build_world(datetime.now(UTC), hash_password_once(), rng)
    ids, counters = Ids(), Counters()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA foreign_keys=OFF")
        conn.execute("PRAGMA cache_size=-262144")
        conn.execute("BEGIN")
        for table, (cols, rows) in small_tables(w).items():
            _sqlite_insert(conn, table, cols, rows)
            stats.add(table, len(rows))
        conn.execute("COMMIT")
        stats.phases["world"] = time.perf_counter() - started
        gen_s = ins_s = 0.0
        t = time.perf_counter()
        for reports, events, ratings in generated_chunks(w, n_reports, seed + 1, ids, counters):
            t1 = time.perf_counter()
            gen_s += t1 - t
            conn.execute("BEGIN")
            _sqlite_insert(conn, "reports", REPORT_COLS, reports)
            _sqlite_insert(conn, "report_events", EVENT_COLS, events)
            _sqlite_insert(conn, "report_ratings", RATING_COLS, ratings)
            conn.execute("COMMIT")
            t = time.perf_counter()
            ins_s += t - t1
            stats.add("reports", len(reports))
            stats.add("report_events", len(events))
            stats.add("report_ratings", len(ratings))
            done = stats.rows["reports"]
            log(f"  seeded {done:>9,} / {n_reports:,} reports ({done / (t - started):,.0f} reports/s)")
        conn.execute("BEGIN")
        _sqlite_insert(conn, "report_counters", ("street_id", "day", "last"),
                       [(s, d, last) for (s, d), last in counters.last.items()])
        conn.execute("COMMIT")
        stats.add("report_counters", len(counters.last))
        stats.phases["wait_for_generator"] = gen_s
        stats.phases["insert"] = ins_s
        t = time.perf_counter()
        conn.execute("ANALYZE")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        stats.phases["analyze"] = time.perf_counter() - t
    finally:
        conn.close()
    stats.seconds = time.perf_counter() - started
    return stats


# ---- extra submitted reports for the accept benchmark (inserted between runs, server up) ---------------------


def submitted_pool_rows(w_grids: list[tuple[int, int, int, int]], reporter_of_grid: dict[int, int], n: int,
                        counters_today: int, now: datetime, start_ids: Ids, rng: random.Random,
                        categories: list[tuple[int, float]]) -> tuple[list, list, int]:
    """n `submitted` reports (version 1, one submit event) in the given grids, created in the last hour, numbered
    after today's counter. w_grids: (street, community, grid, building) per grid. Returns (reports, events, last)."""
    reports, events = [], []
    seq = counters_today
    day = china_day(now)
    for i in range(n):
        street, community, grid, building = w_grids[i % len(w_grids)]
        cat_id, respond_s = categories[i % len(categories)]
        created = now - timedelta(seconds=rng.uniform(1, 3600))
        seq += 1
        start_ids.report += 1
        start_ids.event += 1
        reporter = reporter_of_grid[grid]
        title = "楼道灯不亮（压测）"
        r = dict(
            id=start_ids.report, number=f"BS{day}-{seq:04d}", street_id=street, community_id=community, grid_id=grid,
            building_id=building, grid_path=f"/{street}/{community}/{grid}/", category_id=cat_id, title=title,
            description=title, lat=None, lng=None, address=None, is_public=True, hide_reporter=False, source="app",
            reporter_id=reporter, filed_by_id=reporter, state="submitted", version=1, handler_department_id=None,
            handler_user_id=None, escalated_to_grid_id=None, merged_into_id=None, reopen_count=0, rating=None,
            rated_at=None, auto_closed=False, respond_by=created + timedelta(seconds=respond_s), responded_at=None,
            resolve_by=None, accepted_at=None, dispatched_at=None, resolved_at=None, closed_at=None, hidden_at=None,
            hidden_reason=None, follower_count=0, created_at=created, updated_at=created)
        reports.append(_row(r, now))
        events.append((start_ids.event, start_ids.report, "submit", reporter, "resident", None, "submitted", None,
                       True, True, "[]", '{"source": "app"}', created))
    return reports, events, seq

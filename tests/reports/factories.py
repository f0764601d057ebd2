"""Report factories: `await make_report(app, world, state="dispatched")` walks the real lifecycle (so every
state has its timeline), through the services, without HTTP."""

from __future__ import annotations

from app.auth.deps import load_principal
from app.reports import service
from app.reports.lifecycle import Action
from app.reports.schemas import ReportCreate, ReportRead, StepIn
from tests.images import PNG

# the shortest path of steps (actor, action, extra fields) from submitted to each state
PATHS = {
    "submitted": [],
    "accepted": [("worker_in", Action.accept, {})],
    "rejected": [("worker_in", Action.reject, {"note": "不属于受理范围"})],
    "withdrawn": [("reporter", Action.withdraw, {})],
    "dispatched": [("worker_in", Action.accept, {}), ("worker_in", Action.dispatch, {"department_id": "d1"})],
    "in_progress": [("worker_in", Action.accept, {}), ("worker_in", Action.dispatch, {"department_id": "d1"}),
                    ("dept_in", Action.start, {})],
    "resolved": [("worker_in", Action.accept, {}), ("worker_in", Action.dispatch, {"department_id": "d1"}),
                 ("dept_in", Action.start, {}), ("dept_in", Action.resolve, {"note": "已清理"})],
    "closed": [("worker_in", Action.accept, {}), ("worker_in", Action.dispatch, {"department_id": "d1"}),
               ("dept_in", Action.start, {}), ("dept_in", Action.resolve, {"note": "已清理"}),
               ("reporter", Action.rate, {"stars": 5})],
    "merged": [("worker_in", Action.merge, {"target_report_id": "other"})],
}
PHOTO_PNG = PNG  # a real image: uploads are decoded


async def principal(app, user):
    async with app.state.db.session(write=False) as s:
        return await load_principal(s, user.id)


async def make_report(app, world, *, state: str = "submitted", reporter: str = "resident_a", is_public: bool = True,
                      **fields):
    p = await principal(app, world.users[reporter])
    data = ReportCreate(category_id=world.cat.id, title=fields.pop("title", "楼道堆放杂物"), is_public=is_public,
                        **fields)
    async with app.state.db.session(write=True) as s:
        report = ReportRead.model_validate(app.state.photo_signer.sign_photos(await service.submit_report(s, p, data)))
    target = None
    if state == "merged":
        target = await make_report(app, world, reporter="resident_b")
    for actor, action, extra in PATHS[state]:
        who = reporter if actor == "reporter" else actor
        if who == "worker_in" and reporter == "resident_c":  # resident_c lives in the other grid
            who = "worker_out"
        actor_p = await principal(app, world.users[who])
        extra = dict(extra)
        if extra.get("department_id") == "d1":
            extra["department_id"] = world.d1.id
        if extra.get("target_report_id") == "other":
            extra["target_report_id"] = target.id
        async with app.state.db.session(write=True) as s:
            report = ReportRead.model_validate(app.state.photo_signer.sign_photos(await service.take_step(
                s, app.state.settings, actor_p, report.id,
                StepIn(action=action, expected_version=report.version, **extra))))
    return report

"""Nothing the public may not see leaves through the facade: a private report, a moderated (hidden) report, a
withdrawn one, a hidden photo, an internal step's photo, internal notes, the reporter (named, anonymous, their
phone) and the contact data an Open311 client posts. Every facade response, in both formats, is searched."""

from __future__ import annotations

from sqlalchemy import select

from app.reports.models import Report
from app.users.models import User
from tests.open311.helpers import FORMATS, V2, open311_app, post_form, step, upload
from tests.reports.factories import make_report

SECRET_TITLES = ("私密报事标题甲", "被屏蔽的报事乙", "已撤回的报事丙")
INTERNAL_NOTES = ("督办内部备注丁", "退回内部理由戊", "上报内部说明己", "评价评语庚")
PERSON = {"email": "zhang.san@example.com", "phone": "13799990000", "first_name": "三丰", "last_name": "张",
          "device_id": "device-xyz-789", "account_id": "acct-xyz-456"}


async def _world_of_secrets(app, client, world) -> dict:
    # private, moderated and withdrawn reports, with distinctive titles
    private = await make_report(app, world, is_public=False, title=SECRET_TITLES[0])
    hidden = await make_report(app, world, title=SECRET_TITLES[1])
    await step(app, world, "admin_c1", hidden.id, "hide", note="含个人信息")
    withdrawn = await make_report(app, world, title=SECRET_TITLES[2], state="withdrawn")
    # a public report of an anonymous reporter, with a shown photo and a moderated one
    shown, moderated = await upload(client, world, "resident_b"), await upload(client, world, "resident_b")
    anonymous = await make_report(app, world, reporter="resident_b", hide_reporter=True, state="dispatched",
                                  photo_ids=[moderated, shown])
    await step(app, world, "admin_c1", anonymous.id, "hide_photo", photo_id=moderated, note="拍到了人脸")
    # internal notes: a supervision, a department's return (a public step with an internal note), an escalation,
    # and a rating's comment; and a photo of the internal step
    internal_photo = await upload(client, world, "admin_c1")
    await step(app, world, "admin_c1", anonymous.id, "supervise", note=INTERNAL_NOTES[0], photo_ids=[internal_photo])
    await step(app, world, "dept_in", anonymous.id, "return", note=INTERNAL_NOTES[1])
    await step(app, world, "worker_in", anonymous.id, "escalate", note=INTERNAL_NOTES[2])
    rated = await make_report(app, world, state="resolved")
    await step(app, world, "resident_a", rated.id, "rate", stars=4, note=INTERNAL_NOTES[3])
    # an Open311 client's post, with the person's contact data
    _, key = await open311_app(app, world)
    resp = await client.post(f"{V2}/requests.json", data=post_form(world, key, **PERSON))
    assert resp.status_code == 200, resp.text
    posted = resp.json()[0]["service_request_id"]
    return {"private": private, "hidden": hidden, "withdrawn": withdrawn, "anonymous": anonymous, "rated": rated,
            "posted": posted, "post_response": resp.text, "photos": {"shown": shown, "moderated": moderated,
                                                                     "internal": internal_photo}}


async def _every_response(app, client, world, ids: list[int]) -> list[tuple[str, str]]:
    async with app.state.db.session(write=False) as s:
        numbers = (await s.execute(select(Report.number))).scalars().all()
    paths = [("services", {}), ("services/sanitation", {}), ("requests", {}),
             ("requests", {"service_request_id": ",".join(map(str, ids))}),
             ("requests", {"status": "open"}), ("requests", {"status": "closed"}),
             *((f"requests/{i}", {}) for i in ids), *((f"tokens/{n}", {}) for n in numbers)]
    out = []
    for jurisdiction in ({}, {"jurisdiction_id": world.c1.id}):
        for path, params in paths:
            for fmt in FORMATS:
                resp = await client.get(f"{V2}/{path}.{fmt}", params={**params, **jurisdiction})
                assert resp.status_code in (200, 404), (path, resp.text)
                out.append((f"{path}.{fmt} {params} {jurisdiction}", resp.text))
    return out


async def test_no_facade_response_shows_what_the_public_may_not_see(app, client, world):
    made = await _world_of_secrets(app, client, world)
    ids = [made[k].id for k in ("private", "hidden", "withdrawn", "anonymous", "rated")] + [made["posted"]]
    responses = await _every_response(app, client, world, ids)
    responses.append(("POST requests.json", made["post_response"]))
    users = world.users
    forbidden = [*SECRET_TITLES, *INTERNAL_NOTES, *PERSON.values(), "含个人信息", "拍到了人脸",
                 f"/api/v1/photos/{made['photos']['moderated']}?", f"/api/v1/photos/{made['photos']['internal']}?",
                 *(u.display_name for u in users.values()), *(u.phone for u in users.values()), '"reporter']
    async with app.state.db.session(write=False) as s:
        account = (await s.execute(select(User).join(Report, Report.reporter_id == User.id)
                                   .where(Report.id == made["posted"]))).scalar_one()
    forbidden += [account.display_name, account.phone]
    problems = [(where, word) for where, text in responses for word in forbidden if word in text]
    assert not problems, problems[:10]
    # what may be seen is there: the anonymous report, its shown photo, the rated report (a control that the
    # search above looks at real documents)
    listing = next(text for where, text in responses if where.startswith("requests.json {} {}"))
    assert f'"service_request_id":{made["anonymous"].id}' in listing
    assert f"/api/v1/photos/{made['photos']['shown']}?" in listing
    for key in ("private", "hidden", "withdrawn"):
        assert f'"service_request_id":{made[key].id},' not in listing
    assert account.display_name.startswith("Open311·")  # the service account, searched for above

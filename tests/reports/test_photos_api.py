"""Photos: type from the bytes, size limit, stored only when valid, served only to those who may see them."""

from __future__ import annotations

from sqlalchemy import func, select

from app.uploads.models import Upload
from tests.helpers import assert_error
from tests.images import JPEG, image_bytes
from tests.reports.factories import PHOTO_PNG
from tests.reports.test_statement_counts import Counter

WEBP = image_bytes("WEBP")


def _files_in(root) -> list:
    return [p for p in root.rglob("*") if p.is_file()]


async def _uploads(app) -> int:
    async with app.state.db.session(write=False) as s:
        return (await s.execute(select(func.count()).select_from(Upload))).scalar_one()


async def test_disguised_file_is_refused_and_nothing_stored(client, app, world, settings):
    before_files, before_rows = len(_files_in(settings.upload_dir)), await _uploads(app)
    h = world.headers("resident_a")
    for name, data, ctype in (("photo.jpg", b"<html>not an image</html>", "image/jpeg"),
                              ("photo.png", b"GIF89a" + b"\x00" * 20, "image/png"),
                              ("../../etc/passwd.png", b"%PDF-1.4", "image/png")):
        resp = await client.post("/api/v1/uploads", headers=h, files={"file": (name, data, ctype)})
        assert_error(resp, 415, "unsupported_media_type")
    assert len(_files_in(settings.upload_dir)) == before_files and await _uploads(app) == before_rows


async def test_too_large_photo_is_413_and_nothing_stored(client, app, world, settings):
    before_files, before_rows = len(_files_in(settings.upload_dir)), await _uploads(app)
    big = PHOTO_PNG + b"\x00" * settings.max_photo_bytes
    resp = await client.post("/api/v1/uploads", headers=world.headers("resident_a"),
                             files={"file": ("big.png", big, "image/png")})
    assert_error(resp, 413, "payload_too_large")
    assert len(_files_in(settings.upload_dir)) == before_files and await _uploads(app) == before_rows


async def test_accepted_types_are_stored_under_generated_names(client, world, settings):
    h = world.headers("resident_a")
    resp = await client.post("/api/v1/uploads", headers=h, files={"file": ("../../x.png", WEBP, "image/png")})
    assert resp.status_code == 201 and resp.json()["content_type"] == "image/webp"
    stored = _files_in(settings.upload_dir)
    assert all(p.resolve().is_relative_to(settings.upload_dir.resolve()) for p in stored)
    assert not any("x.png" in p.name for p in stored)
    own = await client.get(f"/api/v1/uploads/{resp.json()['id']}", headers=h)
    assert own.status_code == 200 and own.content[:4] == b"RIFF" and own.content[8:12] == b"WEBP"
    assert_error(await client.get(f"/api/v1/uploads/{resp.json()['id']}", headers=world.headers("resident_b")), 404)


async def test_photos_of_others_cannot_be_attached(client, world):
    other = await client.post("/api/v1/uploads", headers=world.headers("resident_b"),
                              files={"file": ("a.png", PHOTO_PNG, "image/png")})
    resp = await client.post("/api/v1/reports", headers=world.headers("resident_a"),
                             json={"category_id": world.cat.id, "title": "路灯不亮", "photo_ids": [other.json()["id"]]})
    assert_error(resp, 422, "invalid_reference")
    body = {"category_id": world.cat.id, "title": "路灯不亮", "photo_ids": list(range(1, 11))}
    too_many = await client.post("/api/v1/reports", headers=world.headers("resident_a"), json=body)
    assert_error(too_many, 422)


async def test_private_report_photos_are_served_only_to_those_who_see_the_report(client, app, world):
    h = world.headers("resident_a")
    up = (await client.post("/api/v1/uploads", headers=h, files={"file": ("a.png", PHOTO_PNG, "image/png")})).json()
    report = (await client.post("/api/v1/reports", headers=h, json={
        "category_id": world.cat.id, "title": "家门口漏水", "photo_ids": [up["id"]], "is_public": False})).json()
    url = report["photos"][0]["url"]
    assert (await client.get(url, headers=h)).status_code == 200
    assert (await client.get(url, headers=world.headers("worker_in"))).status_code == 200
    for who in ("resident_b", "resident_c", "worker_out", "dept_in"):
        assert_error(await client.get(url, headers=world.headers(who)), 404)
    assert_error(await client.get(url), 401)


async def test_detail_lists_photos_in_order_and_only_those_the_viewer_may_see(client, app, world):
    """The report's photos ride on its row (one statement): the report's own first, in the order given, then
    each step's; a resident does not see the photo of an internal step, staff do."""
    resident, worker = world.headers("resident_a"), world.headers("worker_in")

    async def upload(h) -> int:
        return (await client.post("/api/v1/uploads", headers=h, files={"file": ("a.png", PHOTO_PNG, "image/png")}))\
            .json()["id"]

    first, second = await upload(resident), await upload(resident)
    report = (await client.post("/api/v1/reports", headers=resident, json={
        "category_id": world.cat.id, "title": "井盖松动", "photo_ids": [second, first]})).json()
    url, version = f"/api/v1/reports/{report['id']}", report["version"]
    internal, public = await upload(worker), await upload(worker)
    steps = [{"action": "accept"}, {"action": "dispatch", "handler_user_id": world.users["worker_in"].id},
             {"action": "start"},
             {"action": "request_extension", "note": "需要配件", "resolve_by": "2099-01-01T00:00:00Z",
              "photo_ids": [internal]},
             {"action": "resolve", "note": "已更换井盖", "photo_ids": [public]}]
    for step in steps:
        resp = await client.post(f"{url}/steps", headers=worker, json={**step, "expected_version": version})
        assert resp.status_code == 200, resp.text
        version = resp.json()["version"]
    with Counter(app) as counted:
        seen = (await client.get(url, headers=resident)).json()
    assert [ph["id"] for ph in seen["photos"]] == [second, first, public]
    assert counted.n == 2  # the principal, the report with its photos
    staff = (await client.get(url, headers=worker)).json()
    assert [ph["id"] for ph in staff["photos"]] == [second, first, internal, public]
    assert [ph["event_id"] is None for ph in staff["photos"]] == [True, True, False, False]


# ---- decoded and encoded again (issue 13, item 11) ----------------------------------------------------------


async def test_an_image_header_followed_by_html_is_refused(client, app, world, settings):
    before_files, before_rows = len(_files_in(settings.upload_dir)), await _uploads(app)
    for data in (b"\xff\xd8\xff\xe0" + b"<html><script>alert(1)</script></html>",
                 b"\x89PNG\r\n\x1a\n" + b"<svg onload=alert(1)>" + b"\x00" * 64, JPEG[:40]):
        resp = await client.post("/api/v1/uploads", headers=world.headers("resident_a"),
                                 files={"file": ("x.jpg", data, "image/jpeg")})
        assert_error(resp, 415, "unsupported_media_type")
    assert len(_files_in(settings.upload_dir)) == before_files and await _uploads(app) == before_rows


async def test_exif_with_a_gps_position_does_not_survive_the_upload(client, world):
    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 10.0), 3: "E", 4: (121.0, 28.0, 30.0)}  # GPSInfo: 上海
    original = image_bytes("JPEG", exif=exif)
    assert Image.open(__import__("io").BytesIO(original)).getexif().get(0x010F) == "PhoneMaker"
    h = world.headers("resident_a")
    resp = await client.post("/api/v1/uploads", headers=h, files={"file": ("gps.jpg", original, "image/jpeg")})
    assert resp.status_code == 201, resp.text
    stored = (await client.get(f"/api/v1/uploads/{resp.json()['id']}", headers=h)).content
    kept = Image.open(__import__("io").BytesIO(stored))
    assert kept.size == (8, 6) and dict(kept.getexif()) == {}
    assert b"PhoneMaker" not in stored and b"GPS" not in stored


async def test_a_decompression_bomb_is_refused_before_decoding(client, app, world, settings):
    settings_before = settings.max_photo_pixels
    settings.max_photo_pixels = 1000  # a 100x100 image (10,000 pixels) stands in for a bomb
    try:
        resp = await client.post("/api/v1/uploads", headers=world.headers("resident_a"),
                                 files={"file": ("bomb.png", image_bytes("PNG", size=(100, 100)), "image/png")})
    finally:
        settings.max_photo_pixels = settings_before
    assert_error(resp, 413, "image_too_large")
    assert resp.json()["error"]["details"] == {"max_pixels": 1000}


async def test_downloads_are_not_sniffed_and_have_a_file_name(client, world):
    h = world.headers("resident_a")
    upload = (await client.post("/api/v1/uploads", headers=h, files={"file": ("a.png", PHOTO_PNG, "image/png")})).json()
    own = await client.get(f"/api/v1/uploads/{upload['id']}", headers=h)
    assert own.headers["x-content-type-options"] == "nosniff"
    assert own.headers["content-disposition"] == f'inline; filename="photo-{upload["id"]}.png"'


# ---- signed photo URLs (issue 13, item 13) ------------------------------------------------------------------


async def _report_with_photo(client, world):
    h = world.headers("resident_a")
    up = (await client.post("/api/v1/uploads", headers=h, files={"file": ("a.png", PHOTO_PNG, "image/png")})).json()
    rep = await client.post("/api/v1/reports", headers=h,
                            json={"category_id": world.cat.id, "title": "井盖缺失", "photo_ids": [up["id"]]})
    assert rep.status_code == 201, rep.text
    return rep.json()


async def test_a_signed_photo_url_works_without_a_token_until_it_expires(client, app, world):
    report = await _report_with_photo(client, world)
    signed = report["photos"][0]["signed_url"]
    ok = await client.get(signed)  # no Authorization
    assert ok.status_code == 200 and ok.content.startswith(b"\x89PNG")
    assert ok.headers["x-content-type-options"] == "nosniff"
    # the detail another viewer gets signs the same way; a resident of another community sees no report at all
    assert (await client.get(f"/api/v1/reports/{report['id']}", headers=world.headers("resident_c"))).status_code \
        == 404
    signer = app.state.photo_signer
    photo_id = report["photos"][0]["id"]
    key = signed.split("key=")[1].split("&")[0].replace("%2F", "/")
    expired = signer.url(photo_id, key, now=0)  # issued long ago: expired since
    assert (await client.get(expired)).status_code == 404


async def test_a_tampered_signed_url_is_404(client, world):
    signed = (await _report_with_photo(client, world))["photos"][0]["signed_url"]
    base, sig = signed.rsplit("sig=", 1)
    flipped = sig[:-1] + ("0" if sig[-1] != "0" else "1")
    assert (await client.get(base + "sig=" + flipped)).status_code == 404
    later = signed.replace("exp=", "exp=9")  # a later expiry, same signature
    assert (await client.get(later)).status_code == 404
    other_id = signed.replace("/api/v1/photos/", "/api/v1/photos/9")
    assert (await client.get(other_id)).status_code == 404

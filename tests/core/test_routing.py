"""The app's router (app/core/routing.PrefixRouter): a path outside a router's prefix is refused before its routes
are tried, and what matches is what FastAPI matches without the check."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from app.core.routing import PrefixRouter, include, route_path


def _app() -> FastAPI:
    app = FastAPI()
    a = PrefixRouter(prefix="/api/a")
    b = PrefixRouter(prefix="/api/communities/{community_id}")
    plain = PrefixRouter()  # no prefix: never refused before its routes

    @a.get("/items/{item_id}")
    async def item(item_id: int) -> dict:
        return {"router": "a", "item": item_id}

    @a.post("/items")
    async def make() -> dict:
        return {"router": "a", "made": True}

    @b.get("/things")
    async def things(community_id: int) -> dict:
        return {"router": "b", "community": community_id}

    @plain.get("/healthz")
    async def healthz() -> dict:
        return {"router": "plain"}

    sub = APIRouter(prefix="/sub")

    @sub.get("/x")
    async def x() -> dict:
        return {"router": "a/sub"}

    a.include_router(sub)  # an APIRouter inside a PrefixRouter: under the parent's prefix
    for r in (a, b, plain):
        include(app, r)
    return app


@pytest.fixture
async def client():
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url="http://t") as c:
        yield c


async def test_each_path_reaches_its_route(client):
    assert (await client.get("/api/a/items/7")).json() == {"router": "a", "item": 7}
    assert (await client.get("/api/communities/3/things")).json() == {"router": "b", "community": 3}
    assert (await client.get("/healthz")).json() == {"router": "plain"}
    assert (await client.get("/api/a/sub/x")).json() == {"router": "a/sub"}


async def test_404_405_and_the_trailing_slash_are_fastapis(client):
    assert (await client.get("/api/zzz/items/7")).status_code == 404   # outside every prefix
    assert (await client.get("/api/a/nothing")).status_code == 404     # inside a prefix, no route
    assert (await client.delete("/api/a/items/7")).status_code == 405  # a route, another method
    r = await client.get("/api/a/items/7/", follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"].endswith("/api/a/items/7")


async def test_a_root_path_is_not_part_of_the_routes_path():
    transport = httpx.ASGITransport(app=_app(), root_path="/gateway")
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        assert (await c.get("/gateway/api/a/items/1")).json() == {"router": "a", "item": 1}
    assert route_path({"path": "/gateway/api/a", "root_path": "/gateway"}) == "/api/a"
    assert route_path({"path": "/gatewayx/api/a", "root_path": "/gateway"}) == "/gatewayx/api/a"
    assert route_path({"path": "/api/a", "root_path": ""}) == "/api/a"


def test_a_prefix_router_is_included_by_the_app_only():
    with pytest.raises(TypeError):
        PrefixRouter(prefix="/x").include_router(PrefixRouter(prefix="/y"))
    with pytest.raises(TypeError):
        include(FastAPI(), APIRouter(prefix="/z"))  # type: ignore[arg-type]


def test_every_router_of_the_app_is_a_prefix_router():
    import app.main as main

    included: list[object] = []
    original = main.include

    def spy(app: FastAPI, router: PrefixRouter) -> None:
        included.append(router)
        original(app, router)

    main.include = spy  # type: ignore[assignment]
    try:
        main.create_app()
    finally:
        main.include = original  # type: ignore[assignment]
    assert len(included) >= 25 and all(isinstance(r, PrefixRouter) for r in included)

"""active_client, authenticate_secret, client_for_api_key: each refusal has its own code."""

from __future__ import annotations

import pytest

from app.clients import service
from app.clients.errors import ClientScopeMissing, ClientSecretInvalid, ClientSuspended, ClientUnknown
from tests.clients.factories import make_client


async def test_active_client(db, world):
    async with db.session(write=True) as s:
        good, _ = await make_client(s, world.c1.id)
        off, _ = await make_client(s, world.c1.id, status="suspended")
    async with db.session(write=False) as s:
        assert (await service.active_client(s, good.client_id)).id == good.id
        with pytest.raises(ClientSuspended) as exc:
            await service.active_client(s, off.client_id)
        assert exc.value.status_code == 403 and exc.value.code == "client_suspended"
        for unknown in ("wlc_nosuchclient0000", "", "x" * 500):
            with pytest.raises(ClientUnknown) as exc2:
                await service.active_client(s, unknown)
            assert exc2.value.status_code == 401 and exc2.value.code == "client_unknown"


async def test_authenticate_secret(db, world):
    async with db.session(write=True) as s:
        good, secret = await make_client(s, world.c1.id)
        off, off_secret = await make_client(s, world.c1.id, status="suspended")
    async with db.session(write=False) as s:
        assert (await service.authenticate_secret(s, secret)).id == good.id
        with pytest.raises(ClientSecretInvalid) as bad:
            await service.authenticate_secret(s, secret[:-1] + ("A" if secret[-1] != "A" else "B"))
        assert bad.value.status_code == 401 and bad.value.code == "client_secret_invalid"
        with pytest.raises(ClientSecretInvalid):  # another app's secret under this app's id
            await service.authenticate_secret(s, good.client_id + "." + off_secret.partition(".")[2])
        with pytest.raises(ClientUnknown):
            await service.authenticate_secret(s, "wlc_nosuchclient0000." + "a" * 43)
        with pytest.raises(ClientUnknown):
            await service.authenticate_secret(s, "no-dot-at-all")
        with pytest.raises(ClientSuspended):
            await service.authenticate_secret(s, off_secret)
        with pytest.raises(ClientSecretInvalid):  # the status is told only to the secret's holder
            await service.authenticate_secret(s, off.client_id + ".wrong")


async def test_client_for_api_key(db, world):
    async with db.session(write=True) as s:
        good, secret = await make_client(s, world.c1.id, scopes=["open311", "reports:read"])
        _, narrow = await make_client(s, world.c1.id, scopes=["reports:read"])
    async with db.session(write=False) as s:
        assert (await service.client_for_api_key(s, secret, "open311")).id == good.id
        with pytest.raises(ClientScopeMissing) as exc:
            await service.client_for_api_key(s, narrow, "open311")
        assert exc.value.status_code == 403 and exc.value.details == {"scope": "open311"}
        with pytest.raises(ClientSecretInvalid):
            await service.client_for_api_key(s, secret + "x", "open311")

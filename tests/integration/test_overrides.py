"""Swapping collaborators through the container: signers, overload shedding, live registry changes."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import httpx
import pytest
from litestar.testing import AsyncTestClient

from app.asgi import create_app
from app.clients.secrets import generate_secret, hash_secret
from containers import Container
from tests.support.factories import basic, make_container, register_client
from tests.support.signers import BlockingSigner, FailingSigner, FakeSigner

pytestmark = pytest.mark.anyio


async def test_an_overridden_signer_signs_every_token(container: Container) -> None:
    secret = register_client(container)
    fake = FakeSigner()
    with container.signer.override(fake):
        async with AsyncTestClient(app=create_app(container)) as http:
            response = await http.post("/v1/tokens", json={"audience": "billing"}, headers=basic("orders", secret))
            stats = (await http.get("/v1/stats")).json()
    assert response.status_code == 200, response.text
    signature = response.json()["access_token"].rsplit(".", 1)[1]
    assert base64.urlsafe_b64decode(signature + "==") == FakeSigner.signature
    assert fake.calls == 1
    assert stats["crypto"]["algorithm"] == "FAKE-SIGNER"
    assert stats["crypto"]["signatures_generated"] == 1


async def test_a_failing_signer_is_a_500_with_the_standard_body(container: Container) -> None:
    secret = register_client(container)
    with container.signer.override(FailingSigner()):
        async with AsyncTestClient(app=create_app(container), raise_server_exceptions=False) as http:
            response = await http.post("/v1/tokens", json={"audience": "billing"}, headers=basic("orders", secret))
    assert response.status_code == 500
    assert response.json() == {
        "error": "server_error",
        "error_description": "the server could not complete the request",
    }
    assert "HSM" not in response.text


async def test_a_saturated_pipeline_sheds_load_with_503_and_retry_after(data_dir: Path) -> None:
    container = make_container(
        data_dir,
        signing_mode="pool",
        threads_per_worker="1",
        semaphore_multiplier="1",
        mint_max_waiting="1",
        mint_slot_timeout_sec="1",
    )
    secret = register_client(container)
    signer = BlockingSigner()
    with container.signer.override(signer):
        app = create_app(container)
        # AsyncTestClient runs requests one at a time; an ASGI transport on the same loop runs them
        # concurrently, while the test client keeps the lifespan running.
        async with (
            AsyncTestClient(app=app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://titan.test") as http,
        ):
            mint = {"json": {"audience": "billing"}, "headers": basic("orders", secret)}
            holder = asyncio.create_task(http.post("/v1/tokens", **mint))
            await asyncio.to_thread(signer.started.acquire, True, 5)
            waiter = asyncio.create_task(http.post("/v1/tokens", **mint))
            await asyncio.sleep(0.05)
            refused = await http.post("/v1/tokens", **mint)  # one waits already: the queue is full
            timed_out = await waiter  # waited its whole slot timeout
            signer.release.set()
            held = await holder
            stats = (await http.get("/v1/stats")).json()
    assert held.status_code == 200
    for response, reason in ((refused, "queue_full"), (timed_out, "slot_timeout")):
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "1"
        assert response.json()["error"] == "temporarily_unavailable"
        assert stats["errors"][reason] == 1
    assert (stats["pipeline"]["rejected"], stats["pipeline"]["timed_out"]) == (1, 1)


async def test_registry_changes_reach_a_running_app(container: Container) -> None:
    async with AsyncTestClient(app=create_app(container)) as http:
        store = container.store()
        secret = register_client(container, "late")
        assert await container.refresher().refresh_once()
        response = await http.post("/v1/tokens", json={"audience": "billing"}, headers=basic("late", secret))
        assert response.status_code == 200

        new_secret = generate_secret()
        store.set_client_secret("late", hash_secret(new_secret), 0)
        await container.refresher().refresh_once()
        old = await http.post("/v1/tokens", json={"audience": "billing"}, headers=basic("late", secret))
        new = await http.post("/v1/tokens", json={"audience": "billing"}, headers=basic("late", new_secret))
        assert (old.status_code, new.status_code) == (401, 200)

        store.remove_client("late")
        await container.refresher().refresh_once()
        gone = await http.post("/v1/tokens", json={"audience": "billing"}, headers=basic("late", new_secret))
        assert gone.status_code == 401
        assert not await container.refresher().refresh_once()  # nothing changed since


async def test_the_background_refresher_picks_up_changes(data_dir: Path) -> None:
    container = make_container(data_dir, refresh_interval="1")
    async with AsyncTestClient(app=create_app(container)) as http:
        secret = register_client(container, "background")
        for _ in range(40):
            response = await http.post("/v1/tokens", json={"audience": "billing"}, headers=basic("background", secret))
            if response.status_code == 200:
                break
            await asyncio.sleep(0.1)
        assert response.status_code == 200


async def test_pool_signing_mode_mints_the_same_tokens(data_dir: Path) -> None:
    container = make_container(data_dir, signing_mode="pool")
    secret = register_client(container)
    async with AsyncTestClient(app=create_app(container)) as http:
        response = await http.post("/v1/tokens", json={"audience": "billing"}, headers=basic("orders", secret))
        stats = (await http.get("/v1/stats")).json()
    assert response.status_code == 200
    assert stats["pipeline"]["signing_mode"] == "pool"


async def test_inline_mode_sheds_mints_beyond_max_pending_with_503(data_dir: Path) -> None:
    container = make_container(data_dir, max_pending_mints="1")
    secret = register_client(container)
    mint = {"json": {"audience": "billing"}, "headers": basic("orders", secret)}
    async with AsyncTestClient(app=create_app(container)) as http:
        assert (await http.post("/v1/tokens", **mint)).status_code == 200
        # Inline signing never yields, so hold the only place the way a request reading its body does.
        container.gate().enter()
        refused = await http.post("/v1/tokens", **mint)
        oauth_refused = await http.post(
            "/oauth2/token",
            data={"grant_type": "client_credentials", "audience": "billing"},
            headers=basic("orders", secret),
        )
        container.gate().leave()
        served = await http.post("/v1/tokens", **mint)
        stats = (await http.get("/v1/stats")).json()
    for response in (refused, oauth_refused):
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "1"
        assert response.json()["error"] == "temporarily_unavailable"
    assert served.status_code == 200
    assert stats["errors"]["overloaded"] == 2
    assert (stats["pipeline"]["shed"], stats["pipeline"]["pending"], stats["pipeline"]["max_pending"]) == (2, 0, 1)


async def test_a_draining_service_answers_503_with_connection_close_and_is_not_ready(container: Container) -> None:
    secret = register_client(container)
    async with AsyncTestClient(app=create_app(container)) as http:
        container.gate().drain()
        refused = await http.post("/v1/tokens", json={"audience": "billing"}, headers=basic("orders", secret))
        ready = await http.get("/readyz")
        jwks = await http.get("/.well-known/jwks.json")
    assert refused.status_code == 503
    assert refused.json()["error"] == "temporarily_unavailable"
    assert (refused.headers["retry-after"], refused.headers["connection"]) == ("1", "close")
    assert ready.status_code == 503
    assert ready.json()["checks"]["pipeline_accepting"] is False
    assert jwks.status_code == 200  # verifiers are still served while draining

"""Faults in the background: the store fails, the server keeps minting from memory, reports it, recovers."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from app.asgi import create_app
from app.store.sqlite import SqliteStore
from tests.support.factories import basic, make_container, register_client

pytestmark = pytest.mark.anyio


class BreakableStore(SqliteStore):
    """The real store, until a test breaks it."""

    broken = False

    def generation(self) -> int:
        if self.broken:
            raise sqlite3.OperationalError("disk I/O error")
        return super().generation()


async def test_a_failing_store_is_reported_and_minting_goes_on(data_dir: Path) -> None:
    container = make_container(data_dir)
    store = BreakableStore(container.settings().database_path)
    container.store.override(store)
    secret = register_client(container)
    refresher = container.refresher()
    async with AsyncTestClient(app=create_app(container)) as http:
        store.broken = True
        assert not await refresher.cycle()
        minted = await http.post("/v1/tokens", json={"audience": "billing"}, headers=basic("orders", secret))
        assert minted.status_code == 200  # keys and clients are in memory
        ready = (await http.get("/readyz")).json()
        assert ready["status"] == "ready"
        assert ready["store_error"] == "OperationalError: disk I/O error"
        stats = (await http.get("/v1/stats")).json()["store"]
        assert (stats["refresh_failures"], stats["last_refresh_error"]) == (1, "OperationalError: disk I/O error")
        assert "titan_store_refresh_failures_total 1" in (await http.get("/metrics")).text

        store.broken = False
        assert await refresher.cycle()
        assert (await http.get("/readyz")).json()["store_error"] is None
        assert (await http.get("/v1/stats")).json()["store"]["last_refresh_error"] is None

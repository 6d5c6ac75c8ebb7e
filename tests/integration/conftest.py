"""An app per test, driven through Litestar's AsyncTestClient with its lifespan running."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient

from app.asgi import create_app
from containers import Container
from tests.support.factories import basic, register_client


@pytest.fixture
def secret(container: Container) -> str:
    return register_client(container)


@pytest.fixture
def auth(secret: str) -> dict[str, str]:
    return basic("orders", secret)


@pytest.fixture
async def http(container: Container, secret: str) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=create_app(container)) as client:
        yield client

"""Fixtures shared by unit, integration and end-to-end tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from containers import Container
from tests.support.factories import make_container
from tests.support.postgres import throwaway_database, unavailable_reason


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def container(data_dir: Path) -> Container:
    return make_container(data_dir)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL database; the test is skipped, with the reason, when none is reachable."""
    reason = unavailable_reason()
    if reason is not None:
        if os.environ.get("TITAN_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"TITAN_REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)
    with throwaway_database() as url:
        yield url

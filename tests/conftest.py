"""Fixtures shared by unit, integration and end-to-end tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from containers import Container
from tests.support.factories import make_container


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def container(data_dir: Path) -> Container:
    return make_container(data_dir)

"""End-to-end fixtures: a data directory and environment for real `titan` processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.factories import test_env
from tests.support.process import TitanProcess


@pytest.fixture
def env(data_dir: Path) -> dict[str, str]:
    return {**test_env(data_dir), "TITAN_REFRESH_INTERVAL": "1", "TITAN_LOG_LEVEL": "info"}


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[TitanProcess]]:
    """Every server a test starts is killed at the end, whatever happens."""
    started: list[TitanProcess] = []
    yield started
    for server in started:
        server.kill()

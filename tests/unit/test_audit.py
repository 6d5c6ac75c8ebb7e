"""The audit log: JSON lines off the caller's thread, size rotation, drops counted, no secrets."""

from __future__ import annotations

import json
import time
from pathlib import Path

from app.audit import AuditLog


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_lines_are_written_by_the_writer_thread(tmp_path: Path) -> None:
    audit = AuditLog(sink="file", path=tmp_path / "audit.log", clock=lambda: 0.0)
    audit.start()
    audit.record("mint", client_id="orders", audience="billing", jti="j1", kid="k1", expires_at=300, remote="1.2.3.4")
    audit.record("denial", "denied", client_id="orders", reason="wrong_secret")
    audit.close()
    assert lines(tmp_path / "audit.log") == [
        {
            "time": "1970-01-01T00:00:00.000Z",
            "event": "mint",
            "outcome": "success",
            "client_id": "orders",
            "audience": "billing",
            "kid": "k1",
            "jti": "j1",
            "expires_at": 300,
            "remote": "1.2.3.4",
        },
        {
            "time": "1970-01-01T00:00:00.000Z",
            "event": "denial",
            "outcome": "denied",
            "client_id": "orders",
            "reason": "wrong_secret",
        },
    ]
    assert audit.written == 2
    assert (tmp_path / "audit.log").stat().st_mode & 0o777 == 0o600


def test_a_full_queue_drops_and_counts_without_blocking(tmp_path: Path) -> None:
    audit = AuditLog(sink="file", path=tmp_path / "audit.log", queue_size=2)  # no thread: nothing drains
    for number in range(5):
        audit.record("mint", jti=str(number))
    assert audit.dropped == 3
    audit.close()
    assert [line["jti"] for line in lines(tmp_path / "audit.log")] == ["0", "1"]


def test_the_file_rotates_by_size(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    audit = AuditLog(sink="file", path=path, max_bytes=4096, backups=2)
    audit.start()
    for number in range(200):
        audit.record("mint", client_id="orders", jti=f"{number:04d}")
    audit.close()
    assert path.stat().st_size <= 4096
    assert (tmp_path / "audit.log.1").exists()
    assert (tmp_path / "audit.log.2").exists()
    assert not (tmp_path / "audit.log.3").exists()
    newest = lines(path)[-1]
    assert newest["jti"] == "0199"


def test_a_failing_sink_is_counted_and_never_raises(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    audit = AuditLog(sink="file", path=blocker / "audit.log")
    audit.record("mint", jti="j1")
    audit.close()
    assert (audit.failures, audit.dropped) == (1, 1)
    assert audit.last_error is not None


def test_off_records_nothing(tmp_path: Path) -> None:
    audit = AuditLog(sink="off", path=tmp_path / "audit.log")
    audit.record("mint", jti="j1")
    audit.close()
    assert not (tmp_path / "audit.log").exists()


def test_a_full_disk_is_survived_by_the_writer_thread() -> None:
    # /dev/full accepts the open and fails every write, flush and close with ENOSPC: the writer
    # thread must count the batches and go on (it once died on the failing close).
    audit = AuditLog(sink="file", path=Path("/dev/full"), flush_interval=0.01)
    audit.start()
    try:
        for batch in range(3):
            audit.record("mint", jti=f"j{batch}")
            for _ in range(200):
                if audit.failures > batch:
                    break
                time.sleep(0.01)
        assert audit._thread is not None
        assert audit._thread.is_alive()
    finally:
        audit.close()
    assert audit.failures >= 3
    assert audit.dropped >= 3
    assert audit.last_error is not None
    assert "No space left" in audit.last_error

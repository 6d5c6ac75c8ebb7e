"""Fleet benchmark: the aggregate mint rate of two Titan instances on one PostgreSQL store against one.

Every instance is a real `titan serve` (one Granian worker) on the same throwaway PostgreSQL
database; wrk drives POST /v1/tokens with Basic auth. Scenarios, each with a warm-up and N passes
(medians reported; in the two-instance scenarios both wrk processes run at once and their rates
are summed):

- 1 instance on CPU 0, wrk on CPU 1 (the setup of bench/run.py);
- 1 instance and wrk sharing both CPUs;
- 2 instances and 2 wrk (half the connections each) sharing both CPUs;
- 2 instances pinned to CPU 0 and CPU 1, 2 wrk sharing both CPUs.

On a 2-core machine the load generator competes with the servers; the figures say what one such
machine does, not what N machines would.

    python -m bench.fleet [--passes 3] [--seconds 10] [--connections 64]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import psycopg

from bench.run import RESULTS, VENV_BIN, Pass, PinnedServer, free_port, wrk

ADMIN_URL = os.environ.get("TITAN_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ALL_CPUS = "0,1"


@dataclass
class Scenario:
    name: str
    server_cpus: tuple[str, ...]  # one entry per instance
    wrk_cpus: str


SCENARIOS = (
    Scenario("1 instance on CPU 0, wrk on CPU 1", ("0",), "1"),
    Scenario("1 instance, wrk, both sharing 2 CPUs", (ALL_CPUS,), ALL_CPUS),
    Scenario("2 instances, 2 wrk, all sharing 2 CPUs", (ALL_CPUS, ALL_CPUS), ALL_CPUS),
    Scenario("2 instances on CPU 0 and CPU 1, 2 wrk sharing 2 CPUs", ("0", "1"), ALL_CPUS),
)


@dataclass
class Outcome:
    scenario: str
    instances: int
    passes: list[float]
    p99_ms: list[float]
    non_2xx: int
    socket_errors: int

    @property
    def median(self) -> float:
        return statistics.median(self.passes)


def start_instance(env: dict[str, str], cpus: str, workdir: Path, index: int) -> PinnedServer:
    """One `titan serve` of the fleet, with its own data dir (its audit log) and log file."""
    port = free_port()
    return PinnedServer(
        [str(VENV_BIN / "titan"), "serve", "--port", str(port)],
        port=port,
        cpus=cpus,
        env={**env, "TITAN_DATA_DIR": str(workdir / f"instance-{index}")},
        log_path=workdir / f"instance-{index}.log",
    )


def run_scenario(
    scenario: Scenario, env: dict[str, str], wrk_env: dict[str, str], args: argparse.Namespace, workdir: Path
) -> Outcome:
    instances = [start_instance(env, cpus, workdir, index) for index, cpus in enumerate(scenario.server_cpus)]
    share = max(1, args.connections // len(instances))
    outcome = Outcome(scenario.name, len(instances), [], [], 0, 0)
    try:
        with ThreadPoolExecutor(len(instances)) as pool:

            def one_pass(seconds: float) -> list[Pass]:
                jobs = [
                    pool.submit(wrk, f"{i.base}/v1/tokens", share, seconds, "mint.lua", wrk_env, scenario.wrk_cpus)
                    for i in instances
                ]
                return [job.result() for job in jobs]

            one_pass(3)  # warm-up
            for _ in range(args.passes):
                results = one_pass(args.seconds)
                outcome.passes.append(sum(result.rps for result in results))
                outcome.p99_ms.append(max(result.p99_ms for result in results))
                outcome.non_2xx += sum(result.non_2xx for result in results)
                outcome.socket_errors += sum(result.socket_errors for result in results)
    finally:
        for instance in instances:
            instance.stop()
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=64, help="in total, split between instances")
    args = parser.parse_args()

    database = f"titan_bench_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    store_url = ADMIN_URL.rsplit("/", 1)[0] + f"/{database}"
    outcomes: list[Outcome] = []
    try:
        with tempfile.TemporaryDirectory(prefix="titan-fleet-bench-") as tmp:
            workdir = Path(tmp)
            kek = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
            env = {
                **os.environ,
                "TITAN_STORE_URL": store_url,
                "TITAN_ISSUER": "https://titan.bench.test",
                "TITAN_KEY_ENCRYPTION_KEY": kek,
                "TITAN_LOG_LEVEL": "warning",
                "TITAN_AUDIT_SINK": "file",
                "TITAN_DATA_DIR": str(workdir / "cli"),
            }
            added = subprocess.run(
                [
                    str(VENV_BIN / "titan"),
                    "clients",
                    "add",
                    "bench",
                    "--audience",
                    "billing",
                    "--rate",
                    "1000000",
                    "--burst",
                    "1000000",
                    "--json",
                ],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            secret = json.loads(added.stdout)["client_secret"]
            wrk_env = {"TITAN_BASIC": base64.b64encode(f"bench:{secret}".encode()).decode()}
            for scenario in SCENARIOS:
                print(f"{scenario.name} ...", file=sys.stderr, flush=True)
                outcomes.append(run_scenario(scenario, env, wrk_env, args, workdir))
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    baseline = outcomes[1].median  # one instance on the same shared CPUs
    lines = [
        f"Fleet benchmark, {time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs, {args.connections} connections "
        f"in total, {args.passes} passes of {args.seconds:g} s (medians)",
        "",
        "| scenario | instances | mints/s | × 1 instance (shared CPUs) | worst p99 | non-2xx | socket errors |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for outcome in outcomes:
        lines.append(
            f"| {outcome.scenario} | {outcome.instances} | {outcome.median:,.0f} | {outcome.median / baseline:.2f} "
            f"| {statistics.median(outcome.p99_ms):.1f} ms | {outcome.non_2xx} | {outcome.socket_errors} |"
        )
    report = "\n".join(lines)
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "fleet.md").write_text(report + "\n")
    (RESULTS / "fleet.json").write_text(
        json.dumps([{**asdict(outcome), "median": outcome.median} for outcome in outcomes], indent=2) + "\n"
    )


if __name__ == "__main__":
    main()

"""Side-by-side benchmark: the seed baseline, the framework-free ceiling and Titan, in one run.

Every server runs under `taskset` on CPU 0 (or 0-1 where a scenario says so) and wrk on CPU 1.
Each scenario gets a warm-up and N passes; the table reports medians. Every pass's non-2xx
answers and socket errors are reported, and a sample of tokens from every system is verified
against that system's JWKS. Results: bench/results/latest.json, throughput.svg, and a py-spy
flame graph of Titan under load.

    python -m bench.run [--passes 5] [--seconds 10] [--quick] [--no-flame]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
import jwt

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
VENV_BIN = Path(sys.executable).parent
WRK_CPU = "1"


@dataclass
class Scenario:
    system: str  # seed, ceiling, titan
    variant: str  # e.g. "inline, 1 core"
    endpoint: str  # v1, oauth2, jwks
    connections: int
    server_cpus: str = "0"
    env: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.system} {self.variant} {self.endpoint} c{self.connections}"


@dataclass
class Pass:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int


@dataclass
class Result:
    scenario: Scenario
    passes: list[Pass]
    verified_tokens: int

    @property
    def rps(self) -> float:
        return statistics.median(p.rps for p in self.passes)

    @property
    def p50(self) -> float:
        return statistics.median(p.p50_ms for p in self.passes)

    @property
    def p99(self) -> float:
        return statistics.median(p.p99_ms for p in self.passes)

    @property
    def errors(self) -> int:
        return sum(p.non_2xx + p.socket_errors for p in self.passes)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server not ready at {url}")


class PinnedServer:
    """A server command under taskset in its own process group, returned once /readyz answers."""

    def __init__(self, command: list[str], *, port: int, cpus: str, env: dict[str, str], log_path: Path) -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.log = log_path.open("ab")
        self.process = subprocess.Popen(
            ["taskset", "-c", cpus, *command],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_ready(f"{self.base}/readyz", self.process)

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)
        self.log.close()


class Server(PinnedServer):
    """One system under test of a scenario."""

    def __init__(self, scenario: Scenario, workdir: Path, secret: str) -> None:
        port = free_port()
        env = {**os.environ, **scenario.env, "BENCH_CLIENT_SECRET": secret, "PYTHONPATH": str(ROOT)}
        if scenario.system == "seed":
            command = [str(VENV_BIN / "uvicorn"), "bench.baselines.seed_app:app", "--port", str(port)]
            command += ["--workers", "1", "--log-level", "warning", "--no-access-log"]
        elif scenario.system == "ceiling":
            command = [str(VENV_BIN / "granian"), "--interface", "asgi", "--port", str(port)]
            command += ["--workers", "1", "--log-level", "warning", "bench.baselines.ceiling_app:app"]
        else:
            command = [str(VENV_BIN / "titan"), "serve", "--port", str(port)]
            env.update(TITAN_DATA_DIR=str(workdir / "titan-data"), TITAN_LOG_LEVEL="warning")
            env.update(TITAN_AUDIT_SINK="file")
        log_path = workdir / f"{scenario.system}.log"
        super().__init__(command, port=port, cpus=scenario.server_cpus, env=env, log_path=log_path)


def wrk(
    url: str, connections: int, seconds: float, script: str | None, env: dict[str, str], cpus: str = WRK_CPU
) -> Pass:
    command = ["taskset", "-c", cpus, "wrk", "-t1", f"-c{connections}", f"-d{int(seconds)}s", "--latency"]
    if script:
        command += ["-s", str(ROOT / "bench" / script)]
    output = subprocess.run(
        [*command, url], capture_output=True, text=True, env={**os.environ, **env}, check=True
    ).stdout

    def number(pattern: str) -> float:
        match = re.search(pattern, output)
        return float(match.group(1)) if match else 0.0

    def millis(label: str) -> float:
        match = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        if not match:
            return 0.0
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return Pass(
        rps=number(r"Requests/sec:\s+([\d.]+)"),
        p50_ms=millis("50%"),
        p99_ms=millis("99%"),
        requests=int(number(r"(\d+) requests in")),
        non_2xx=int(number(r"Non-2xx or 3xx responses: (\d+)")),
        socket_errors=sum(int(n) for n in socket_errors.groups()) if socket_errors else 0,
    )


def sample_tokens(base: str, endpoint: str, secret: str) -> list[str]:
    auth = ("bench", secret)
    if endpoint == "oauth2":
        data = {"grant_type": "client_credentials", "audience": "billing"}
        responses = [httpx.post(f"{base}/oauth2/token", data=data, auth=auth) for _ in range(5)]
    else:
        responses = [httpx.post(f"{base}/v1/tokens", json={"audience": "billing"}, auth=auth) for _ in range(5)]
    for response in responses:
        if response.status_code != 200:
            raise RuntimeError(f"sample mint failed: {response.status_code} {response.text}")
    return [response.json()["access_token"] for response in responses]


def verify_sample(base: str, tokens: list[str]) -> int:
    jwks = httpx.get(f"{base}/.well-known/jwks.json").json()
    keys = {key["kid"]: jwt.PyJWK(key) for key in jwks["keys"]}
    for token in tokens:
        kid = jwt.get_unverified_header(token)["kid"]
        jwt.decode(token, keys[kid].key, algorithms=["ES256"], audience="billing")
    return len(tokens)


SCRIPTS = {"v1": "mint.lua", "oauth2": "oauth.lua", "jwks": None}
PATHS = {"v1": "/v1/tokens", "oauth2": "/oauth2/token", "jwks": "/.well-known/jwks.json"}


def scenarios(quick: bool) -> list[Scenario]:
    inline, pool = {"TITAN_SIGNING_MODE": "inline"}, {"TITAN_SIGNING_MODE": "pool"}
    levels = [64] if quick else [64, 256]
    chosen = [Scenario("seed", "FastAPI+Uvicorn, pool", "v1", c) for c in levels]
    chosen += [Scenario("ceiling", "bare ASGI on Granian", "v1", c) for c in levels]
    chosen += [Scenario("titan", "inline, 1 core", "v1", c, env=inline) for c in levels]
    chosen += [
        Scenario("titan", "inline, 1 core", "oauth2", 64, env=inline),
        Scenario("titan", "inline, 1 core", "jwks", 64, env=inline),
        Scenario("titan", "pool, 1 core", "v1", 64, env=pool),
    ]
    if not quick:
        chosen += [
            Scenario("titan", "inline, 2 cores", "v1", 64, server_cpus="0,1", env=inline),
            Scenario("titan", "pool, 2 cores", "v1", 64, server_cpus="0,1", env=pool),
        ]
    return chosen


def register_client(workdir: Path) -> str:
    env = {**os.environ, "TITAN_DATA_DIR": str(workdir / "titan-data"), "TITAN_LOG_LEVEL": "warning"}
    output = subprocess.run(
        [
            *(str(VENV_BIN / "titan"), "clients", "add", "bench", "--audience", "billing"),
            *("--scope", "invoices:read", "--rate", "1000000", "--burst", "1000000", "--json"),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    secret: str = json.loads(output)["client_secret"]
    return secret


def run(passes: int, seconds: float, quick: bool, flame: bool) -> list[Result]:
    workdir = Path(tempfile.mkdtemp(prefix="titan-bench-"))
    secret = register_client(workdir)
    basic = base64.b64encode(f"bench:{secret}".encode()).decode()
    wrk_env = {"TITAN_BASIC": basic}
    results: list[Result] = []
    groups: dict[tuple[str, str, str, str], list[Scenario]] = {}
    for scenario in scenarios(quick):
        key = (scenario.system, scenario.server_cpus, json.dumps(scenario.env, sort_keys=True), scenario.variant)
        groups.setdefault(key, []).append(scenario)
    for group in groups.values():
        server = Server(group[0], workdir, secret)
        try:
            for scenario in group:
                url = server.base + PATHS[scenario.endpoint]
                script = SCRIPTS[scenario.endpoint]
                wrk(url, scenario.connections, 2, script, wrk_env)  # warm-up
                done = []
                for number in range(passes):
                    result = wrk(url, scenario.connections, seconds, script, wrk_env)
                    done.append(result)
                    print(
                        f"  {scenario.label:<52} pass {number + 1}: {result.rps:>9.0f} req/s  "
                        f"p99 {result.p99_ms:6.2f} ms  errors {result.non_2xx + result.socket_errors}",
                        flush=True,
                    )
                verified = 0
                if scenario.endpoint != "jwks":
                    verified = verify_sample(server.base, sample_tokens(server.base, scenario.endpoint, secret))
                results.append(Result(scenario, done, verified))
            if flame and group[0].system == "titan" and group[0].variant == "inline, 1 core":
                record_flame(server, wrk_env, workdir)
        finally:
            server.stop()
    shutil.rmtree(workdir, ignore_errors=True)
    return results


def record_flame(server: Server, wrk_env: dict[str, str], workdir: Path) -> None:
    py_spy = VENV_BIN / "py-spy"
    if not py_spy.exists():
        print("  (py-spy is not installed: no flame graph)")
        return
    load = subprocess.Popen(
        [
            "taskset",
            "-c",
            WRK_CPU,
            "wrk",
            "-t1",
            "-c64",
            "-d12s",
            "-s",
            str(ROOT / "bench" / "mint.lua"),
            server.base + "/v1/tokens",
        ],
        env={**os.environ, **wrk_env},
        stdout=subprocess.DEVNULL,
    )
    time.sleep(1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            str(py_spy),
            "record",
            "--pid",
            str(server.process.pid),
            "--subprocesses",
            "--duration",
            "8",
            "--rate",
            "250",
            "--nonblocking",
            "--output",
            str(RESULTS / "titan-flame.svg"),
        ],
        capture_output=True,
        check=False,
    )
    load.wait()
    print(f"  flame graph: {RESULTS / 'titan-flame.svg'}")


def table(results: list[Result]) -> str:
    def find(system: str, connections: int) -> Result | None:
        return next(
            (
                r
                for r in results
                if r.scenario.system == system
                and r.scenario.endpoint == "v1"
                and r.scenario.connections == connections
                and r.scenario.server_cpus == "0"
            ),
            None,
        )

    lines = [
        "| system | variant | endpoint | conns | req/s | p50 ms | p99 ms | ×seed | ×ceiling | errors "
        "| tokens verified |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for result in results:
        s = result.scenario
        seed, ceiling = find("seed", s.connections), find("ceiling", s.connections)
        lines.append(
            f"| {s.system} | {s.variant} | {PATHS[s.endpoint]} | {s.connections} | {result.rps:,.0f} | "
            f"{result.p50:.2f} | {result.p99:.2f} | "
            f"{result.rps / seed.rps if seed else 0:.2f} | {result.rps / ceiling.rps if ceiling else 0:.2f} | "
            f"{result.errors} | {result.verified_tokens} |"
        )
    return "\n".join(lines)


def svg_plot(results: list[Result]) -> str:
    """req/s and p99 against connections for the three systems (v1, one core), as a small SVG."""

    def chosen(result: Result, name: str) -> bool:
        s = result.scenario
        if s.system != name or s.endpoint != "v1" or s.server_cpus != "0":
            return False
        return name != "titan" or s.variant == "inline, 1 core"

    series = {
        name: sorted((r.scenario.connections, r.rps, r.p99) for r in results if chosen(r, name))
        for name in ("seed", "ceiling", "titan")
    }
    colours = {"seed": "#d62728", "ceiling": "#7f7f7f", "titan": "#1f77b4"}
    levels = sorted({c for points in series.values() for c, _, _ in points}) or [64]
    max_rps = max((rps for points in series.values() for _, rps, _ in points), default=1) * 1.15
    max_p99 = max((p99 for points in series.values() for _, _, p99 in points), default=1) * 1.15
    width, height, pad = 360, 240, 50
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * width + 40}" height="{height + 70}" '
        'font-family="sans-serif" font-size="12">'
    ]

    def panel(offset: int, title: str, index: int, top: float, unit: str) -> None:
        parts.append(f'<text x="{offset + width / 2}" y="16" text-anchor="middle" font-weight="bold">{title}</text>')
        parts.append(
            f'<rect x="{offset + pad}" y="30" width="{width - pad - 10}" height="{height - 40}" '
            'fill="none" stroke="#999"/>'
        )
        for tick in range(5):
            value = top * tick / 4
            y = 30 + (height - 40) * (1 - tick / 4)
            parts.append(f'<text x="{offset + pad - 4}" y="{y + 4}" text-anchor="end">{value:,.0f}{unit}</text>')
        for position, level in enumerate(levels):
            x = offset + pad + (width - pad - 10) * ((position + 0.5) / len(levels))
            parts.append(f'<text x="{x}" y="{height + 5}" text-anchor="middle">{level} conns</text>')
        for name, points in series.items():
            coords = []
            for connections, *values in points:
                x = offset + pad + (width - pad - 10) * ((levels.index(connections) + 0.5) / len(levels))
                y = 30 + (height - 40) * (1 - values[index] / top)
                coords.append(f"{x:.1f},{y:.1f}")
                parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colours[name]}"/>')
            if coords:
                parts.append(
                    f'<polyline points="{" ".join(coords)}" fill="none" stroke="{colours[name]}" stroke-width="2"/>'
                )

    panel(0, "requests/s (higher is better)", 0, max_rps, "")
    panel(width + 40, "p99 latency, ms (lower is better)", 1, max_p99, "")
    for number, name in enumerate(series):
        x = 60 + number * 160
        parts.append(f'<rect x="{x}" y="{height + 30}" width="12" height="12" fill="{colours[name]}"/>')
        parts.append(f'<text x="{x + 18}" y="{height + 41}">{name}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="64 connections only, no two-core scenarios")
    parser.add_argument("--no-flame", action="store_true", help="skip the py-spy flame graph")
    args = parser.parse_args()
    if shutil.which("wrk") is None or shutil.which("taskset") is None:
        sys.exit("bench needs wrk and taskset (apt-get install wrk util-linux); `just bench` installs them")
    started = time.time()
    results = run(args.passes, args.seconds, args.quick, not args.no_flame)
    RESULTS.mkdir(parents=True, exist_ok=True)
    report = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "command": " ".join(["python -m bench.run", *sys.argv[1:]]),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "passes": args.passes,
        "seconds": args.seconds,
        "results": [
            {
                **asdict(r.scenario),
                "rps_median": r.rps,
                "p50_ms_median": r.p50,
                "p99_ms_median": r.p99,
                "errors": r.errors,
                "verified_tokens": r.verified_tokens,
                "passes": [asdict(p) for p in r.passes],
            }
            for r in results
        ],
    }
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=2))
    (RESULTS / "throughput.svg").write_text(svg_plot(results))
    markdown = table(results)
    (RESULTS / "latest.md").write_text(markdown + "\n")
    print()
    print(markdown)
    print(f"\nsaved {RESULTS / 'latest.json'}, {RESULTS / 'throughput.svg'}, {RESULTS / 'latest.md'}")


if __name__ == "__main__":
    main()

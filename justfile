# Titan task runner; `just --list` shows every recipe. `just` itself comes with `just install`.

venv := ".venv"
bin := venv / "bin"

# Create the virtualenv and install Titan with its development tools.
install:
    python3 -m venv {{venv}}
    {{bin}}/pip install -q -e '.[dev]'

# Run the service on its embedded defaults (127.0.0.1:8000, data in ./.titan).
serve *args:
    {{bin}}/titan serve {{args}}

# The quick suite: unit, integration and end-to-end, without the heavy tests (soak, SIGKILL loops, fuzzing).
test *args:
    {{bin}}/pytest -m "not heavy" {{args}}

# The whole suite, heavy tests included (what the README's test command and CI run); the soak needs wrk.
test-all *args:
    command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
    {{bin}}/pytest {{args}}

# Lint and check formatting with ruff.
lint:
    {{bin}}/ruff check .
    {{bin}}/ruff format --check .

# Format the code with ruff.
fmt:
    {{bin}}/ruff format .
    {{bin}}/ruff check --fix .

# Type-check app/, settings.py and containers.py with mypy in strict mode.
type:
    {{bin}}/mypy

# Everything CI runs: tests, lint and types.
check: test-all lint type

# Side-by-side benchmark (seed baseline, ceiling, Titan); installs wrk and the baselines' packages if missing.
bench *args:
    command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
    {{bin}}/pip install -q -e '.[dev,bench]'
    {{bin}}/python -m bench.run {{args}}

# RSS of the Titan worker after 10 thousand and after 1 million mints.
bench-memory *args:
    command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
    {{bin}}/python -m bench.memory {{args}}

# Aggregate mint rate of two instances on one PostgreSQL store against one (needs a local PostgreSQL).
bench-fleet *args:
    command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
    {{bin}}/python -m bench.fleet {{args}}

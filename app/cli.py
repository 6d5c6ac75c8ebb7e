"""The `titan` command: serve the API and manage clients and keys in the store."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from app.audit_tail import follow_audit
from app.clients.model import is_audience, is_client_id, is_scope_token, parse_client_jwks
from app.clients.registry import check_jwks_uri
from app.clients.secrets import generate_secret, hash_secret
from app.errors import NotFound, TitanError
from app.keys.encryption import encode_kek
from app.store.port import ClientRecord
from containers import Container
from settings import SettingsError, parse_duration

EXIT_USAGE = 2
EXIT_NOT_FOUND = 1


class CliError(Exception):
    """A command that cannot be carried out; printed without a traceback."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


def _iso(timestamp: int | None) -> str:
    return "-" if timestamp is None else datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _print_json(records: Sequence[object], fields: tuple[str, ...]) -> None:
    """Records as a JSON list of objects with ``fields`` only (never secrets or private keys)."""
    print(json.dumps([{name: _plain(getattr(record, name)) for name in fields} for record in records]))


def _plain(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


def _print_table(rows: list[list[str]], header: list[str]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def cmd_serve(container: Container, args: argparse.Namespace) -> None:
    from app.serve import serve

    overrides = {name: value for name, value in (("host", args.host), ("port", args.port)) if value is not None}
    if overrides:
        import dataclasses

        container.settings.override(dataclasses.replace(container.settings(), **overrides))
    serve(container)


def _scopes(values: list[str]) -> tuple[str, ...]:
    tokens = tuple(dict.fromkeys(token for value in values for token in value.split()))
    for token in tokens:
        if not is_scope_token(token):
            raise CliError(f"scope {token!r} is not a valid scope token (RFC 6749 §3.3)")
    return tokens


def _audiences(values: list[str]) -> tuple[str, ...]:
    audiences = tuple(dict.fromkeys(values))
    for audience in audiences:
        if not is_audience(audience):
            raise CliError(f"audience {audience!r} must be 1-255 printable ASCII characters without spaces")
    return audiences


def cmd_clients_add(container: Container, args: argparse.Namespace) -> None:
    settings = container.settings()
    if not is_client_id(args.client_id):
        raise CliError("client id must be 1-128 letters, digits, '.', '_', '~' or '-', starting with a letter or digit")
    try:
        max_ttl = parse_duration(args.max_ttl) if args.max_ttl else settings.max_ttl
    except ValueError as exc:
        raise CliError(f"--max-ttl: {exc}") from None
    if not 1 <= max_ttl <= settings.max_ttl:
        raise CliError(f"--max-ttl must be between 1s and TITAN_MAX_TTL ({settings.max_ttl}s), got {max_ttl}s")
    jwks, jwks_uri = _client_keys(args, settings.allow_insecure_jwks_uri)
    secret = None if jwks or jwks_uri else generate_secret()
    now = int(time.time())
    record = ClientRecord(
        client_id=args.client_id,
        secret_hash=b"" if secret is None else hash_secret(secret),
        audiences=_audiences(args.audience),
        scopes=_scopes(args.scope or []),
        max_ttl=max_ttl,
        created_at=now,
        updated_at=now,
        jwks=jwks,
        jwks_uri=jwks_uri,
        rate=args.rate,
        burst=args.burst,
    )
    container.store().add_client(record)
    container.audit().record(
        "client", client_id=args.client_id, actor="operator", detail=f"registered ({record.auth_method})"
    )
    if secret is not None:
        _print_secret(args, args.client_id, secret, "registered")
    elif args.json:
        print(json.dumps({"client_id": args.client_id, "token_endpoint_auth_method": "private_key_jwt"}))
    else:
        print(f"client {args.client_id} registered; it authenticates with private_key_jwt")


def _client_keys(args: argparse.Namespace, allow_insecure: bool) -> tuple[str | None, str | None]:
    """The JWKS text (from --jwk) or the URI (--jwks-uri) of a private_key_jwt client, checked now."""
    if args.jwk and args.jwks_uri:
        raise CliError("give --jwk or --jwks-uri, not both")
    if args.jwk:
        try:
            text = Path(args.jwk).read_text()
            parse_client_jwks(text)
        except OSError as exc:
            raise CliError(f"--jwk: cannot read {args.jwk}: {exc.strerror}") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise CliError(f"--jwk: {exc}") from None
        return json.dumps(json.loads(text)), None
    if args.jwks_uri:
        try:
            return None, check_jwks_uri(args.jwks_uri, allow_insecure=allow_insecure)
        except ValueError as exc:
            raise CliError(f"--jwks-uri: {exc}") from None
    return None, None


def _positive(kind: type[int] | type[float]) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
        return value

    return parse


def _print_secret(args: argparse.Namespace, client_id: str, secret: str, verb: str) -> None:
    if args.json:
        print(json.dumps({"client_id": client_id, "client_secret": secret}))
        return
    print(f"client {client_id} {verb}")
    print(f"client_id:     {client_id}")
    print(f"client_secret: {secret}")
    print("The secret is shown only this once; store it in your secret manager now.", file=sys.stderr)


def cmd_clients_list(container: Container, args: argparse.Namespace) -> None:
    clients = container.store().list_clients()
    if args.json:
        _print_json(clients, ("client_id", "audiences", "scopes", "max_ttl", "created_at", "updated_at"))
        return
    rows = [
        [c.client_id, ",".join(c.audiences), " ".join(c.scopes) or "-", f"{c.max_ttl}s", _iso(c.updated_at)]
        for c in clients
    ]
    _print_table(rows, ["CLIENT", "AUDIENCES", "SCOPES", "MAX-TTL", "UPDATED"])


def cmd_clients_remove(container: Container, args: argparse.Namespace) -> None:
    if not container.store().remove_client(args.client_id):
        raise CliError(f"no client {args.client_id!r}", EXIT_NOT_FOUND)
    container.audit().record("client", client_id=args.client_id, actor="operator", detail="removed")
    print(f"client {args.client_id} removed")


def cmd_clients_rotate_secret(container: Container, args: argparse.Namespace) -> None:
    secret = generate_secret()
    if not container.store().set_client_secret(args.client_id, hash_secret(secret), int(time.time())):
        raise CliError(f"no client {args.client_id!r}", EXIT_NOT_FOUND)
    container.audit().record("client", client_id=args.client_id, actor="operator", detail="secret rotated")
    _print_secret(args, args.client_id, secret, "has a new secret; the old one no longer works")


def cmd_clients_disable(container: Container, args: argparse.Namespace) -> None:
    now = int(time.time())
    if not container.store().set_client_disabled(args.client_id, disabled=True, not_before=now, updated_at=now):
        raise CliError(f"no client {args.client_id!r}", EXIT_NOT_FOUND)
    container.audit().record("client", client_id=args.client_id, actor="operator", detail="disabled")
    print(f"client {args.client_id} disabled: it cannot mint, and its tokens issued before now are inactive")


def cmd_clients_enable(container: Container, args: argparse.Namespace) -> None:
    now = int(time.time())
    if not container.store().set_client_disabled(args.client_id, disabled=False, not_before=None, updated_at=now):
        raise CliError(f"no client {args.client_id!r}", EXIT_NOT_FOUND)
    container.audit().record("client", client_id=args.client_id, actor="operator", detail="enabled")
    print(f"client {args.client_id} enabled; tokens issued while it was disabled stay inactive")


def cmd_tokens_revoke(container: Container, args: argparse.Namespace) -> None:
    settings = container.settings()
    now = int(time.time())
    # The jti alone does not say when the token expires: keep it until no token can still be valid.
    expires_at = now + settings.max_ttl + settings.clock_skew
    container.revoker().revoke(jti=args.jti, client_id=args.client or "-", expires_at=expires_at, actor="operator")
    print(f"token {args.jti} revoked; introspection answers inactive within a refresh interval")


def cmd_bench(container: Container, args: argparse.Namespace) -> None:
    import asyncio
    import os

    from app.bench import ENDPOINTS, report, run_bench

    secret = args.client_secret or os.environ.get("TITAN_BENCH_CLIENT_SECRET", "")
    if args.endpoint != "jwks" and (not args.client_id or not secret):
        raise CliError("give --client-id and the secret (--client-secret or TITAN_BENCH_CLIENT_SECRET)")
    if args.endpoint not in ENDPOINTS or args.connections < 1 or args.duration <= 0:
        raise CliError("--connections must be positive and --duration more than 0")
    print(f"titan bench: {args.endpoint} at {args.url}, {args.connections} connections, {args.duration:g} s")
    try:
        tally = asyncio.run(
            run_bench(
                args.url,
                endpoint=args.endpoint,
                client_id=args.client_id or "",
                secret=secret,
                audience=args.audience,
                connections=args.connections,
                duration=args.duration,
            )
        )
    except ValueError as exc:
        raise CliError(str(exc)) from None
    print(report(tally, args.duration))


def cmd_audit_tail(container: Container, args: argparse.Namespace) -> None:
    path = container.settings().audit_path
    follow_audit(path, lines=args.lines, follow=args.follow)


def cmd_keys_list(container: Container, args: argparse.Namespace) -> None:
    keys = container.store().list_keys()
    if args.json:
        _print_json(keys, ("kid", "alg", "state", "created_at", "activates_at", "retires_at", "removed_at"))
        return
    rows = [
        [
            k.kid,
            k.alg,
            k.state,
            _iso(k.created_at),
            _iso(k.activates_at),
            _iso(k.retires_at),
            _iso(k.removed_at),
        ]
        for k in keys
    ]
    _print_table(rows, ["KID", "ALG", "STATE", "CREATED", "ACTIVATES", "RETIRES", "REMOVED"])


def _print_applied(lines: tuple[str, ...], nothing: str) -> None:
    for line in lines or (nothing,):
        print(line)


def cmd_keys_rotate(container: Container, args: argparse.Namespace) -> None:
    rotator = container.rotator()
    applied = rotator.rotate(immediately=args.now)
    if args.now:
        print("warning: verifiers holding a cached JWKS will reject tokens of the new key until they refetch it")
    pending = [key for key in applied.keys if key.state == "published"]
    nothing = (
        f"key {pending[0].kid} is already published and activates at {_iso(pending[0].activates_at)}"
        if pending
        else "nothing to do"
    )
    _print_applied(applied.transitions, nothing)


def cmd_keys_revoke(container: Container, args: argparse.Namespace) -> None:
    _print_applied(container.rotator().revoke(args.kid).transitions, "nothing to do")


def cmd_keys_rotate_kek(container: Container, args: argparse.Namespace) -> None:
    rotator, source = container.rotator(), container.kek_source()
    kek, generated = rotator.rotate_kek()
    if not source.from_environment:
        print(f"re-sealed every private key; {source.path} now holds only the new key-encryption key")
        return
    if not generated:
        print("re-sealed every private key under the first key of TITAN_KEY_ENCRYPTION_KEY; drop the others now")
        return
    if args.json:
        print(json.dumps({"key_encryption_key": encode_kek(kek)}))
        return
    print("re-sealed every private key under a new key-encryption key:")
    print(encode_kek(kek))
    print(
        "Set TITAN_KEY_ENCRYPTION_KEY to it and restart. With several instances, roll out "
        "TITAN_KEY_ENCRYPTION_KEY=NEW,OLD first and run this command with that value instead.",
        file=sys.stderr,
    )


def cmd_migrate(container: Container, args: argparse.Namespace) -> None:
    store = container.store()  # opening a store applies its missing migrations, under a lock
    print(f"store {store.describe()}: schema version {store.schema_version()}, up to date")


def cmd_store_copy(container: Container, args: argparse.Namespace) -> None:
    import dataclasses

    from app.store.copy import copy_store
    from app.store.factory import open_store
    from settings import env_name, parse_store_url

    try:
        target_url = parse_store_url(args.to)
    except ValueError as exc:
        raise CliError(f"--to {exc}") from None
    source = container.store()
    target = open_store(dataclasses.replace(container.settings(), store_url=target_url))
    try:
        if target.describe() == source.describe():
            raise CliError("--to names the store this command reads from")
        report = copy_store(source, target, now=int(time.time()))
    finally:
        target.close()
    print(
        f"copied {report.keys} keys, {report.clients} clients and {report.revoked_tokens} revoked tokens "
        f"from {source.describe()} to {target.describe()}"
    )
    print(
        f"Start Titan with {env_name('store_url')} set to the new store and the same key-encryption key.",
        file=sys.stderr,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="titan", description="Titan service-to-service token issuer.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the HTTP service (one Granian worker)")
    serve.add_argument("--host", help="listen address (default TITAN_HOST)")
    serve.add_argument("--port", type=int, help="listen port (default TITAN_PORT)")
    serve.set_defaults(handler=cmd_serve)

    clients = commands.add_parser("clients", help="manage calling services").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    add = clients.add_parser("add", help="register a client and print its secret once")
    add.add_argument("client_id")
    add.add_argument("--audience", action="append", required=True, help="an audience it may request (repeat)")
    add.add_argument("--scope", action="append", help="a scope it may request (repeat, or space-separated)")
    add.add_argument("--max-ttl", help="longest token lifetime, e.g. 900 or 15m (default TITAN_MAX_TTL)")
    add.add_argument("--jwk", metavar="FILE", help="authenticate with private_key_jwt: its public JWK or JWKS")
    add.add_argument("--jwks-uri", metavar="URL", help="authenticate with private_key_jwt: an https JWKS URL")
    add.add_argument("--rate", type=_positive(float), help="tokens per second (default TITAN_RATE_LIMIT)")
    add.add_argument("--burst", type=_positive(int), help="burst size (default TITAN_RATE_BURST)")
    add.add_argument("--json", action="store_true", help="print {client_id, client_secret} as JSON")
    add.set_defaults(handler=cmd_clients_add)

    listing = clients.add_parser("list", help="list registered clients")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=cmd_clients_list)

    remove = clients.add_parser("remove", help="remove a client; it can no longer mint")
    remove.add_argument("client_id")
    remove.set_defaults(handler=cmd_clients_remove)

    disable = clients.add_parser("disable", help="refuse new mints; make its tokens issued before now inactive")
    disable.add_argument("client_id")
    disable.set_defaults(handler=cmd_clients_disable)

    enable = clients.add_parser("enable", help="let a disabled client mint again")
    enable.add_argument("client_id")
    enable.set_defaults(handler=cmd_clients_enable)

    rotate = clients.add_parser("rotate-secret", help="replace a client's secret and print the new one once")
    rotate.add_argument("client_id")
    rotate.add_argument("--json", action="store_true")
    rotate.set_defaults(handler=cmd_clients_rotate_secret)

    keys = commands.add_parser("keys", help="inspect and rotate signing keys").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    keys_list = keys.add_parser("list", help="list signing keys and their states")
    keys_list.add_argument("--json", action="store_true")
    keys_list.set_defaults(handler=cmd_keys_list)

    rotate_key = keys.add_parser("rotate", help="publish a new key now; it signs after the publish lead")
    rotate_key.add_argument(
        "--now",
        action="store_true",
        help="emergency: sign with a new key at once (breaks verifiers holding a stale JWKS until they refetch)",
    )
    rotate_key.set_defaults(handler=cmd_keys_rotate)

    revoke = keys.add_parser("revoke", help="pull a compromised key from the JWKS at once")
    revoke.add_argument("kid")
    revoke.set_defaults(handler=cmd_keys_revoke)

    rotate_kek = keys.add_parser("rotate-kek", help="re-seal every private key under a new key-encryption key")
    rotate_kek.add_argument("--json", action="store_true", help="print {key_encryption_key} as JSON (env mode)")
    rotate_kek.set_defaults(handler=cmd_keys_rotate_kek)
    tokens = commands.add_parser("tokens", help="operate on issued tokens").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    token_revoke = tokens.add_parser("revoke", help="revoke a token by its jti")
    token_revoke.add_argument("jti")
    token_revoke.add_argument("--client", help="the client it was issued to, for the audit log")
    token_revoke.set_defaults(handler=cmd_tokens_revoke)

    migrate = commands.add_parser("migrate", help="apply the store's schema migrations (also done on start)")
    migrate.set_defaults(handler=cmd_migrate)
    store = commands.add_parser("store", help="operate on the store").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    store_copy = store.add_parser("copy", help="copy keys, clients and revocations into a new, empty store")
    store_copy.add_argument("--to", required=True, metavar="URL", help="postgresql://... or sqlite:///PATH")
    store_copy.set_defaults(handler=cmd_store_copy)

    bench = commands.add_parser("bench", help="a short load test against a running instance")
    bench.add_argument("--url", default="http://127.0.0.1:8000")
    bench.add_argument("--endpoint", choices=("v1", "oauth2", "jwks"), default="v1")
    bench.add_argument("--client-id")
    bench.add_argument("--client-secret", help="or set TITAN_BENCH_CLIENT_SECRET (keeps it out of ps)")
    bench.add_argument("--audience", default="billing")
    bench.add_argument("--connections", type=int, default=64)
    bench.add_argument("--duration", type=float, default=10.0, help="seconds")
    bench.set_defaults(handler=cmd_bench)

    audit = commands.add_parser("audit", help="read the audit log").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    tail = audit.add_parser("tail", help="print the last lines of the audit log, and follow it with -f")
    tail.add_argument("-n", "--lines", type=int, default=20)
    tail.add_argument("-f", "--follow", action="store_true")
    tail.set_defaults(handler=cmd_audit_tail)
    return parser


def _protect_kid(argv: list[str]) -> list[str]:
    """A kid is base64url and may begin with '-': keep argparse from reading it as an option."""
    if argv[:2] == ["keys", "revoke"] and len(argv) == 3 and argv[2] not in ("-h", "--help", "--"):
        return [*argv[:2], "--", argv[2]]
    return argv


def main(argv: Sequence[str] | None = None, container: Container | None = None) -> int:
    args = build_parser().parse_args(_protect_kid(list(sys.argv[1:] if argv is None else argv)))
    handler: Callable[[Container, argparse.Namespace], None] = args.handler
    container = container or Container()
    try:
        handler(container, args)
    except KeyboardInterrupt:
        return 130
    except CliError as exc:
        print(f"titan: error: {exc}", file=sys.stderr)
        return exc.code
    except (SettingsError, TitanError) as exc:
        print(f"titan: error: {exc}", file=sys.stderr)
        return EXIT_NOT_FOUND if isinstance(exc, NotFound) else EXIT_USAGE
    finally:
        if args.command != "serve":
            container.audit().close()  # the CLI writes its audit lines before it exits
            container.shutdown_resources()  # the store, if the command opened it
    return 0


if __name__ == "__main__":
    sys.exit(main())

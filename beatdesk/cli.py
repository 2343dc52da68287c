"""The ``beatdesk`` console command.

beatdesk demo [--no-serve] [--port N]   load the demo (SQLite by default) and serve it
beatdesk serve [--host H] [--port N]    serve the web application (gunicorn)
beatdesk worker                         run background tasks (database-backed queue)
beatdesk channels run|once              poll accounts, send and reconcile posts (loop)
beatdesk channels rotate-keys|new-key   re-encrypt channel credentials / print a new key
beatdesk audit verify|head              check the audit hash chain
beatdesk demo-code USERNAME             current authenticator code of a demo account
beatdesk triage|screen|locate [--in F]  language tools over JSON Lines (no database)
beatdesk evidence verify BUNDLE.zip     check an evidence bundle's hashes (no database)
beatdesk records dispose [--dry-run]    erase what is past its retention (also runs daily)
beatdesk insights collect|refresh|rebuild|weekly   platform metrics, daily figures, reports
beatdesk <django command> ...           any Django management command (migrate, ...)
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from collections.abc import Sequence

LANGUAGE_TOOLS = {
    "triage": "beatdesk.language.triage.cli",
    "screen": "beatdesk.language.screen.cli",
    "locate": "beatdesk.language.locality.cli",
    # Standard library only, so a bundle can be checked anywhere, without a database.
    "evidence": "beatdesk.intelligence.seal",
}
ALIASES = {"demo-code": "demo_code", "create-agency": "create_agency"}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help", "help"}:
        print(__doc__)
        return 0
    command, rest = args[0], args[1:]
    if command in LANGUAGE_TOOLS:
        import importlib

        module = importlib.import_module(LANGUAGE_TOOLS[command])
        return int(module.main(rest))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if command == "serve":
        return serve(rest)
    if command == "worker":
        return django_command(["db_worker", *rest])
    if command == "demo":
        return demo(rest)
    return django_command([ALIASES.get(command, command), *rest])


def django_command(args: list[str]) -> int:
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(["beatdesk", *args])
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 1
    return 0


def _gunicorn_command(host: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--bind",
        f"{host}:{port}",
        "--workers",
        "2",
        "--threads",
        "4",
        "--access-logfile",
        "-",
        "--graceful-timeout",
        "10",
    ]


def serve(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="beatdesk serve")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    options = parser.parse_args(argv)
    return subprocess.call(_gunicorn_command(options.host, options.port))  # noqa: S603


def demo(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="beatdesk demo", description="Migrate, load the demo and serve it with a worker."
    )
    parser.add_argument("--no-serve", action="store_true", help="load the demo and exit")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    options = parser.parse_args(argv)
    for step in (["migrate", "--noinput", "-v", "0"], ["load_demo"]):
        status = django_command(step)
        if status:
            return status
    if options.no_serve:
        return 0
    print(f"Serving the demo at http://{options.host}:{options.port}/  (Ctrl+C stops it)")
    helpers = [
        subprocess.Popen([sys.executable, "-m", "beatdesk.cli", "worker"]),
        subprocess.Popen([sys.executable, "-m", "beatdesk.cli", "channels", "run"]),
    ]
    try:
        return subprocess.call(_gunicorn_command(options.host, options.port))  # noqa: S603
    except KeyboardInterrupt:
        return 0
    finally:
        for helper in helpers:
            helper.send_signal(signal.SIGTERM)
        for helper in helpers:
            helper.wait(timeout=15)


if __name__ == "__main__":
    raise SystemExit(main())

"""Try published Open WebUI pipes in tuichat: load offline, load with installs, chat.

    python scripts/survey_pipes.py FOLDER --out results.jsonl [--installs] [--chat]

FOLDER holds one pipe per .py file (published pipes you gathered; none are kept in this
repository). Each pipe gets a fresh store of its own. Every step runs the `tuichat` CLI of
the Python running this script, in its own process, so a pipe that hangs, crashes or prints
cannot disturb the others:

* offline: `pipes add --offline`: does it load and stay on with only what tuichat ships
  (the packages Open WebUI guarantees every pipe)?
* installs (`--installs`): `pipes add --install-missing --yes` with pip allowed (this changes
  the environment: use a throwaway venv);
* chat (`--chat`): for a pipe with a valve holding an http(s) URL, that URL is pointed at a
  local OpenAI-compatible server (tests/openai_server.py), key and model valves are set to
  what the server takes, and `tuichat run` must return the server's answer.

One JSON line a pipe goes to --out; `--table` prints the Markdown table from such a file.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.openai_server import API_KEY, MODELS, start_server  # noqa: E402

MESSAGE = "hello from the survey"
URL_FIELD = re.compile(r"(url|base|host|endpoint)", re.I)
KEY_FIELD = re.compile(r"(api_?key|token|secret|_pat$|^pat$)", re.I)
MODEL_FIELD = re.compile(r"model", re.I)


def tuichat(db: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            [sys.executable, "-m", "tuichat", "--db", str(db), *args],
            capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        return subprocess.CompletedProcess(exc.cmd, 124, "", f"timed out after {timeout} s")


def valve_defaults(source: str, class_name: str = "Valves") -> dict[str, Any]:
    """Fields of the pipe's `Valves` (or `UserValves`) class with a literal default (read, never run)."""
    fields: dict[str, Any] = {}
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return fields
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            for item in node.body:
                if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name) and item.value is not None:
                    value = item.value
                    if isinstance(value, ast.Call):
                        value = next((k.value for k in value.keywords if k.arg == "default"), value.args[0] if value.args else None)
                    try:
                        fields[item.target.id] = ast.literal_eval(value) if value is not None else None
                    except ValueError:
                        fields[item.target.id] = None
    return fields


def chat_valves(defaults: dict[str, Any], server_url: str) -> dict[str, Any] | None:
    """Valves pointing the pipe at the local server; None without an http(s) URL valve."""
    root = server_url.removesuffix("/v1")
    valves: dict[str, Any] = {}
    for name, value in defaults.items():
        if isinstance(value, str) and value.startswith("http") and URL_FIELD.search(name):
            try:
                path = urlsplit(value).path.rstrip("/")
            except ValueError:  # a placeholder such as "http://your_host:[port]"
                path = ""
            valves[name] = root + (path if path.endswith("/v1") or "/v1/" in path else "/v1")
    if not valves:
        return None
    for name, value in defaults.items():
        if KEY_FIELD.search(name) and (value is None or isinstance(value, str)):
            valves[name] = API_KEY
        elif MODEL_FIELD.search(name) and isinstance(value, str) and not value.startswith("http") and name not in valves:
            valves[name] = MODELS[0]
    return valves


def loaded(db: Path, function_id: str) -> tuple[bool, str]:
    listing = tuichat(db, "pipes", "list", "--json")
    try:
        rows = json.loads(listing.stdout)
    except ValueError:
        return False, f"pipes list failed: {listing.stderr.strip()[-300:]}"
    row = next((r for r in rows if r.get("id") == function_id), None)
    if row is None:
        return False, "not stored"
    error = row.get("load_error") or row.get("install_error") or row.get("error")
    return bool(row.get("is_active")) and not error, str(error or "")


def first_line_of_error(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith("  pip:")]
    interesting = [line for line in lines if "Error" in line or "tuichat:" in line] or lines
    return (interesting[-1] if interesting else f"exit {result.returncode}")[:300]


def try_pipe(path: Path, args: argparse.Namespace, server_url: str) -> dict[str, Any]:
    source = path.read_text(encoding="utf-8", errors="replace")
    record: dict[str, Any] = {"pipe": path.stem}
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "offline.db"
        start = time.monotonic()
        added = tuichat(db, "--offline", "pipes", "add", str(path), "--id", "p")
        ok, error = loaded(db, "p")
        error = "" if error == "not stored" else error
        record.update(offline=ok, offline_why="" if ok else (error or first_line_of_error(added)), offline_s=round(time.monotonic() - start, 1))
        db = Path(folder) / "installs.db"
        if args.installs:
            added = tuichat(db, "pipes", "add", str(path), "--id", "p", "--install-missing", "--yes", timeout=args.install_timeout)
            ok, error = loaded(db, "p")
            error = "" if error == "not stored" else error
            record.update(installs=ok, installs_why="" if ok else (error or first_line_of_error(added)))
        else:
            tuichat(db, "--offline", "pipes", "add", str(path), "--id", "p")
            record.update(installs=None, installs_why="")
        valves = chat_valves(valve_defaults(source), server_url) if args.chat else None
        record["chat"] = None
        if valves is not None and loaded(db, "p")[0]:
            setting = tuichat(db, "pipes", "valves", "p", "--set", json.dumps(valves))
            user_keys = {name: API_KEY for name, value in valve_defaults(source, "UserValves").items()
                         if KEY_FIELD.search(name) and (value is None or isinstance(value, str))}
            if user_keys:
                tuichat(db, "pipes", "user-valves", "p", "--set", json.dumps(user_keys))
            models = tuichat(db, "models", "--json")
            try:
                ids = [m["id"] for m in json.loads(models.stdout) if m["id"] == "p" or m["id"].startswith("p.")]
            except (ValueError, KeyError, TypeError):
                ids = []
            model = next((i for i in ids if MODELS[0] in i), ids[0] if ids else "p")
            run = tuichat(db, "run", model, MESSAGE, timeout=90)
            record["chat"] = MESSAGE in run.stdout
            record["chat_model"] = model
            record["chat_why"] = "" if record["chat"] else (
                f"valves: {setting.stderr.strip()[-200:]}; " if setting.returncode else ""
            ) + f"exit {run.returncode}: {(run.stdout.strip()[-150:] + ' ' + first_line_of_error(run))[:300]}"
    return record


def table(path: Path) -> str:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def yn(value: Any) -> str:
        return "–" if value is None else ("y" if value else "**n**")

    lines = ["| pipe | loads offline | with installs | chats | why not |", "|---|---|---|---|---|"]
    for r in rows:
        why = "; ".join(w for w in (r.get("offline_why"), r.get("installs_why"), r.get("chat_why")) if w)
        lines.append(f"| {r['pipe']} | {yn(r['offline'])} | {yn(r['installs'])} | {yn(r['chat'])} | {why.replace('|', '/')[:240]} |")
    count = lambda key: (sum(1 for r in rows if r.get(key)), sum(1 for r in rows if r.get(key) is not None))  # noqa: E731
    lines.append("")
    lines.append("offline {}/{}, with installs {}/{}, chats {}/{}".format(*count("offline"), *count("installs"), *count("chat")))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, nargs="?")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--installs", action="store_true")
    parser.add_argument("--chat", action="store_true")
    parser.add_argument("--install-timeout", type=float, default=300)
    parser.add_argument("--only", help="a regular expression the pipe's file name must match")
    parser.add_argument("--table", action="store_true", help="print the table of --out and stop")
    args = parser.parse_args()
    if args.table:
        print(table(args.out))
        return 0
    server, thread, info = start_server()
    try:
        done = set()
        if args.out.exists():  # a run cut short goes on where it stopped
            done = {json.loads(line)["pipe"] for line in args.out.read_text(encoding="utf-8").splitlines() if line.strip()}
        with args.out.open("a", encoding="utf-8") as out:
            for path in sorted(args.folder.glob("*.py")):
                if (args.only and not re.search(args.only, path.name)) or path.stem in done:
                    continue
                record = try_pipe(path, args, info.url)
                print(json.dumps(record), file=out, flush=True)
                print(f"{record['pipe']}: offline={record['offline']} installs={record['installs']} chat={record['chat']}", flush=True)
    finally:
        server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())

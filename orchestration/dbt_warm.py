"""dbt started before the build needs it: a process that imports dbt while the job loads its
extracts, then runs the build that the job hands it.

Starting dbt costs about two seconds of imports before it reads a single file. A run starts one
``serve`` process when its resources are set up, handing it a Unix socket that already listens
(in Linux's abstract namespace, so a killed run leaves no file behind; it serves only a process
of its own user), and that process imports dbt's command line and the DuckDB adapter. When the
dbt step starts dbt, the program it starts (the wrapper written by
``orchestration/defs/resources.py``) calls ``hand_over``: it sends its arguments, working
folder, environment and its standard input, output and error (as file descriptors) over the
socket, and the warm process runs exactly that dbt command in its place, writing to the same
pipe that dagster-dbt reads. The wrapper stays as dagster-dbt's process: it forwards SIGINT and
SIGTERM, and exits with dbt's code once the warm process has exited (so the warehouse is
released, as after a dbt process of its own).

Each warm process serves one build. After it, the process closes the warehouse (DuckDB writes
its last checkpoint) and ends without Python's teardown of dbt's objects, which took about
0.4 s that the job waited for; should the database stay open with a log to write, it ends as
any process does. Anything that stops the hand-over before dbt starts (no warm process, one
that could not be started or has stopped, another platform) leaves the wrapper to start dbt
itself. The warm process dies with the job (PR_SET_PDEATHSIG) and with the wrapper (the socket
closes). Linux only, like the wrapper. No Dagster here: this module starts in a fresh
interpreter.

A build's first second or more is dbt parsing the project: reading its saved parse and
compiling the (de)serialisers of dbt's classes, which mashumaro compiles on first use. So a
warm process told which build to expect (the one the configuration in the environment gives)
parses the project while the extracts load, with dbt's saved parse of that build, as
``dbt parse`` would. It hands that parse (dbt's manifest) to the build as dbt's own Python API
does (``dbtRunner(manifest=...)``), only if the build is the one it parsed for: the same
arguments (the selection aside, which does not change what dbt parses), the same project and
profiles folders, the same values of the variables a parse can read (TIERING_*, DBT_* and any
other that a file of the project reads with env_var), and no file of the project or its seeds
changed since (by content). Anything else, a build with an argument the parse is not made
with, or a parse that failed, and the build parses for itself, as before. A build on a parse
made ahead finds that parse's dbt log beside its own (dbt-parse.log) and its saved parse in
its target folder, as if it had parsed.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The checkout this module belongs to: the warm process and the wrapper import from it.
ROOT = Path(__file__).resolve().parents[1]
# The environment variable through which dagster-dbt's dbt process finds the warm one: the
# name of its socket in the abstract namespace (which starts with a NUL byte, left out here).
SOCKET_ENV = "TIERING_DBT_WARM_SOCKET"
_LENGTH = struct.Struct("!I")
_CODE = struct.Struct("!i")
_PR_SET_PDEATHSIG = 1
_PEER_CREDENTIALS = struct.Struct("iII")  # struct ucred: pid, uid, gid
# The environment variables in which a build differs from the process that parsed ahead of it
# and which do not change what dbt parses: where dagster-dbt puts the build's artifacts and log,
# its log format, usage statistics off, the hand-over's own, and the as-of date (read only while
# models run, never while dbt parses: dbt_project/macros/as_of_date.sql). The project and
# profiles folders are compared as folders.
_NOT_PARSED = {
    "DBT_TARGET_PATH",
    "DBT_LOG_PATH",
    "DBT_LOG_FORMAT",
    "DBT_SEND_ANONYMOUS_USAGE_STATS",
    "DBT_PROJECT_DIR",
    "DBT_PROFILES_DIR",
    SOCKET_ENV,
    "TIERING_AS_OF",
}
# dbt's record of a variable the project read with a default because it was not set.
_UNSET = "DBT_DEFAULT_PLACEHOLDER"
# The log of a parse made ahead, beside the build's dbt.log.
PARSE_LOG = "dbt-parse.log"


def _die_with_parent(parent: int) -> None:
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)


def _receive_exactly(connection: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = connection.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the connection closed early")
        data += chunk
    return data


class WarmDbt:
    """The warm process of one run, seen from the job: the name it listens on, and its end.

    ``build``: the arguments of the build it should expect (``dbt_args``), which it then
    parses for while it waits; None to only import dbt."""

    def __init__(self, build: list[str] | None = None) -> None:
        self.name = f"tiering-dbt-{os.getpid()}-{secrets.token_hex(8)}"
        self.build = build
        # Listening from here on: a wrapper that connects while dbt is still importing waits
        # for the import to end.
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
            listener.bind(f"\0{self.name}")
            listener.listen(1)
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-u",
                    "-m",
                    "orchestration.dbt_warm",
                    str(listener.fileno()),
                    str(os.getpid()),
                    *([json.dumps(build)] if build else []),
                ],
                stdin=subprocess.DEVNULL,
                pass_fds=[listener.fileno()],
                cwd=ROOT,
                # Its own session: a Ctrl-C at the terminal reaches the build through the
                # wrapper, once, as it reaches a dbt started by the wrapper.
                start_new_session=True,
            )

    def close(self) -> None:
        """Stop the warm process if no build took it. A build it runs is over by now: the dbt
        step waits for its wrapper, which waits for this process."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def start(build: list[str] | None = None) -> WarmDbt | None:
    """A warm dbt for this run, or None where the hand-over is not available (not Linux, or the
    socket or the process could not be made): the dbt step then starts dbt itself. ``build``:
    the build to parse for while it waits (``WarmDbt``)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return WarmDbt(build)
    except OSError:
        return None


# A warm dbt that the job's entry point started before importing Dagster, until the run's dbt
# resource takes it (``take``): see orchestration/run.py.
_early: WarmDbt | None = None


def start_early(build: list[str] | None = None) -> None:
    """Start this run's warm dbt now, for the dbt resource to take when the run starts. The job's
    first seconds are Dagster's import on one core; dbt's import and parse (about three seconds
    on the other) then no longer share the cores with the first extracts' load."""
    global _early
    close_early()
    _early = start(build)


def take(build: list[str] | None = None) -> WarmDbt | None:
    """The warm dbt started early, if it expects ``build`` and still runs; otherwise a new one
    (``start``), and the early one, if any, stopped."""
    global _early
    early, _early = _early, None
    if early is not None:
        if early.build == build and early.process.poll() is None:
            return early
        early.close()
    return start(build)


def close_early() -> None:
    """Stop the warm dbt started early if no run took it (a run that did not start)."""
    global _early
    early, _early = _early, None
    if early is not None:
        early.close()


def stoppable() -> None:
    """Let SIGINT and SIGTERM stop this process as they stop a dbt process of its own, whatever
    it inherited from the process that started it, where a signal ignored would stay ignored
    (a job started in the background by a shell ignores SIGINT, which dagster-dbt sends dbt to
    cancel a build) and one blocked in the starting thread would stay blocked."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, (signal.SIGINT, signal.SIGTERM))


def _close_warehouse() -> bool:
    """Close the DuckDB database the build opened, as the interpreter's exit would: its last
    checkpoint written, its write-ahead log removed. True when nothing is left to write; False
    when no build connected (dbt stopped before it, or another adapter ran) or the database is
    still open with a log to write (a connection dbt did not close): the interpreter's exit
    then closes it, as before."""
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager

        environment = DuckDBConnectionManager.env()  # raises when no build connected
        log = Path(f"{environment.creds.path}.wal")
        environment.close()
    except Exception:
        return False
    DuckDBConnectionManager.close_all_connections()
    return not log.exists()


def _option(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args[:-1] else None


def _without_selection(args: list[str]) -> list[str]:
    """``args`` without ``--select`` and its value (dagster-dbt's ``fqn:*`` or a subset)."""
    if "--select" not in args[:-1]:
        return list(args)
    at = args.index("--select")
    return args[:at] + args[at + 2 :]


# A literal name read by dbt's env_var() in a project file (the project's and profile's YAML,
# models, macros, tests, packages).
_ENV_VAR = re.compile(rb"""env_var\(\s*['"]([^'"]+)['"]""")


def _files(folders: list[Path]) -> tuple[dict[str, str], set[str]]:
    """Every file under ``folders`` (dbt's own target and logs folders and its usage-statistics
    id aside) with a digest of its content, what a change to the project would change, and the
    names of the environment variables the files read. (dbt itself reads them all to find what
    changed; a second read is milliseconds.)"""
    found: dict[str, str] = {}
    names: set[str] = set()
    for folder in folders:
        for root, folders_in, files in os.walk(folder, followlinks=True):
            if Path(root) == folder:
                folders_in[:] = [name for name in folders_in if name not in ("target", "logs")]
                files = [name for name in files if name != ".user.yml"]
            for name in files:
                path = os.path.join(root, name)
                try:
                    with open(path, "rb") as handle:
                        content = handle.read()
                except OSError:
                    found[path] = ""
                    continue
                found[path] = hashlib.sha1(content).hexdigest()
                names.update(match.decode(errors="replace") for match in _ENV_VAR.findall(content))
    return found, names


@dataclass
class _Parsed:
    """dbt's parse of the project for one build, made before the build asked for it."""

    build: list[str]
    project_dir: Path
    folders: list[Path]  # the project and its seeds
    files: dict[str, str]
    read: dict[str, str | None]  # the variables that can change the parse, as they were
    manifest: Any
    saved: bytes  # dbt's saved parse after this parse (partial_parse.msgpack)
    log: str  # dbt's log of the parse

    @staticmethod
    def variables(environ: dict[str, str], names: set[str]) -> dict[str, str | None]:
        """The variables of ``environ`` that can change what dbt parses: TIERING_* and DBT_*
        (what differs from build to build aside) and ``names``, those the project reads."""
        chosen = {name for name in environ if name.startswith(("TIERING_", "DBT_"))} | names
        return {name: environ.get(name) for name in sorted(chosen - _NOT_PARSED)}

    def manifest_for(self, argv: list[str], environ: dict[str, str]) -> Any:
        """The parse, if the build ``argv`` (dbt's arguments) run with ``environ`` is the one it
        was made for; else None."""
        if _without_selection(argv) != self.build:
            return None
        for name in ("DBT_PROJECT_DIR", "DBT_PROFILES_DIR"):
            if not environ.get(name) or Path(environ[name]).resolve() != self.project_dir:
                return None
        files, names = _files(self.folders)
        if files != self.files:
            return None
        if self.variables(environ, names) != self.read:
            return None
        for name, value in self.manifest.env_vars.items():  # those dbt read, as it recorded them
            if environ.get(name, _UNSET) != value:
                return None
        return self.manifest

    def hand_to(self, environ: dict[str, str]) -> None:
        """Leave in the build's folders what a build that parsed would: dbt's saved parse (which
        the run keeps for the next night) and, beside the build's dbt.log, the parse's log."""
        from orchestration.dbt_invocation import PARTIAL_PARSE_FILE

        target, logs = environ.get("DBT_TARGET_PATH"), environ.get("DBT_LOG_PATH")
        if target and os.path.isdir(target):
            Path(target, PARTIAL_PARSE_FILE).write_bytes(self.saved)
        if logs and os.path.isdir(logs) and self.log:
            Path(logs, PARSE_LOG).write_text(self.log, encoding="utf-8")


# The build arguments a parse made ahead is made with (the others do not change what dbt
# parses): a build with any other is left to parse for itself.
_PARSED_WITH = ("--target", "--vars")
_NOT_PARSING = ("--exclude-resource-type", "--resource-type", "--select", "--exclude")


def _parse_arguments(build: list[str]) -> list[str] | None:
    """The arguments of ``dbt parse`` for ``build`` (``dbt_args``); None for a build with an
    argument the parse would not take into account."""
    if not build or build[0] != "build":
        return None
    parse, rest = [], build[1:]
    while rest:
        if len(rest) < 2 or rest[0] not in _PARSED_WITH + _NOT_PARSING:
            return None
        if rest[0] in _PARSED_WITH:
            parse += rest[:2]
        rest = rest[2:]
    return parse


def _parse_ahead(build: list[str]) -> _Parsed | None:
    """Parse the project for ``build`` (``dbt_args``) as the build itself would, from dbt's
    saved parse of that build; None when there is none (the build then parses in full, itself),
    the build has an argument this parse would not be made with, or the parse fails."""
    from dbt.cli.main import dbtRunner

    from orchestration.dbt_invocation import PARTIAL_PARSE_FILE, PROJECT_DIR, keep_parse, saved_parse

    saved = saved_parse(build)
    arguments = _parse_arguments(build)
    if not saved.exists() or arguments is None:
        return None
    project_dir = PROJECT_DIR.resolve()
    folders = [project_dir]
    seeds = json.loads(_option(build, "--vars") or "{}").get("seeds_dir")
    if seeds:
        folders.append((project_dir / seeds).resolve())
    files, names = _files(folders)
    environ = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="tiering-dbt-parse-") as folder:
        shutil.copyfile(saved, Path(folder) / PARTIAL_PARSE_FILE)
        result = dbtRunner().invoke(
            [
                "parse",
                *("--project-dir", str(project_dir), "--profiles-dir", str(project_dir)),
                *arguments,
                *("--target-path", folder, "--log-path", folder),
                *("--quiet", "--no-write-json", "--no-send-anonymous-usage-stats"),
            ]
        )
        if not result.success or result.result is None:
            return None
        # What dbt saved of this parse, for the next night (as after a build that parsed itself).
        keep_parse(Path(folder), build)
        parsed_file = (Path(folder) / PARTIAL_PARSE_FILE).read_bytes()
        log = Path(folder) / "dbt.log"
        text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    manifest = result.result
    read = _Parsed.variables(environ, names)
    return _Parsed(build, project_dir, folders, files, read, manifest, parsed_file, text)


def serve(listening: int, parent: int, build: list[str] | None = None) -> int:
    """Import dbt (and parse the project for ``build``, if given), run the one build handed
    over on the socket ``listening``, report its exit code."""
    _die_with_parent(parent)
    stoppable()
    # What this process says before a build is handed over (a parse ahead that failed, a warning
    # at dbt's import) is held, and said in the build's output, which the job logs: the job may
    # start this process before its own output goes to its log (orchestration/run.py).
    held = tempfile.TemporaryFile()  # noqa: SIM115 - open until the build's output replaces it, below
    os.dup2(held.fileno(), 1)
    os.dup2(held.fileno(), 2)
    listener = socket.socket(fileno=listening)
    import dbt.adapters.duckdb  # noqa: F401 - the adapter the build's profile loads
    from dbt.cli.main import cli  # the import this process is here for

    parsed = None
    if build:
        try:
            parsed = _parse_ahead(build)
        except Exception as error:  # the build parses for itself
            print(f"dbt: the project could not be parsed ahead of the build ({error!r})", file=sys.stderr)

    while True:
        connection, _ = listener.accept()
        credentials = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEER_CREDENTIALS.size)
        if _PEER_CREDENTIALS.unpack(credentials)[1] == os.getuid():
            break
        connection.close()  # another user's process: never run a command for it
    listener.close()
    header, descriptors, _, _ = socket.recv_fds(connection, _LENGTH.size, 3)
    if len(header) < _LENGTH.size:
        header += _receive_exactly(connection, _LENGTH.size - len(header))
    request = json.loads(_receive_exactly(connection, _LENGTH.unpack(header)[0]))
    try:
        connection.sendall(_CODE.pack(os.getpid()))
    except OSError:  # the wrapper stopped before the build started: nothing to run
        os._exit(0)
    sys.stdout.flush()
    sys.stderr.flush()
    for number, descriptor in enumerate(descriptors):
        os.dup2(descriptor, number)
        os.close(descriptor)
    held.seek(0)
    said = held.read()
    held.close()
    while said:
        said = said[os.write(2, said) :]
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = request["argv"]
    finished = threading.Event()

    def watch_wrapper() -> None:
        # The socket closes when the wrapper exits: a build nobody waits for stops at once.
        connection.recv(1)
        if not finished.is_set():
            os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch_wrapper, daemon=True).start()
    manifest = None
    if parsed:
        try:
            manifest = parsed.manifest_for(sys.argv[1:], os.environ)
            if manifest is not None:
                parsed.hand_to(os.environ)
        except Exception:  # the build parses for itself
            manifest = None
    try:
        if manifest is None:
            cli(sys.argv[1:], prog_name="dbt")
        else:
            print("dbt: the project was parsed while the extracts loaded", file=sys.stderr)

            def invoked_by(event) -> None:  # noqa: ANN001 - dbt's EventMsg
                # The manifest dbt writes is this build's, as if the build had parsed.
                manifest.metadata.invocation_id = event.info.invocation_id

            cli(sys.argv[1:], prog_name="dbt", obj={"manifest": manifest, "callbacks": [invoked_by]})
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 0 if stop.code is None else 1
        if isinstance(stop.code, str):  # as the interpreter prints it
            print(stop.code, file=sys.stderr)
    except Exception:  # what dbt's own process would print before exiting with 1
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    finished.set()
    closed = _close_warehouse()
    connection.sendall(_CODE.pack(code))
    if closed:
        # Nothing is left to write: the process ends without Python's teardown of dbt's objects,
        # about 0.4 s after every build, which the wrapper and so the job would wait for.
        os._exit(code)
    return code


def hand_over(name: str, argv: list[str]) -> None:
    """Run ``argv`` (dbt and its arguments) in the warm process listening on ``name`` and exit
    with its code. Returns only when no warm process took the build: the caller starts dbt
    itself."""
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.connect(f"\0{name}")
        request = json.dumps({"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ)}).encode()
        socket.send_fds(connection, [_LENGTH.pack(len(request))], [0, 1, 2])
        connection.sendall(request)
        pid = _CODE.unpack(_receive_exactly(connection, _CODE.size))[0]
    except OSError:
        connection.close()
        return
    forwarded: list[int] = []

    def forward(number: int, _frame) -> None:
        forwarded.append(number)
        os.kill(pid, number)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    code = None
    try:
        code = _CODE.unpack(_receive_exactly(connection, _CODE.size))[0]
        # The socket closes when the warm process has exited and released the warehouse.
        while connection.recv(4096):
            pass
    except ConnectionError:
        pass
    if code is None:
        # The warm process died without a code: this process ends as a dbt process of its own
        # would have, by the signal passed on, else as killed.
        if forwarded:
            signal.signal(forwarded[-1], signal.SIG_DFL)
            os.kill(os.getpid(), forwarded[-1])
        os.kill(os.getpid(), signal.SIGKILL)
    sys.exit(code)


if __name__ == "__main__":
    sys.exit(serve(int(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3]) if len(sys.argv) > 3 else None))

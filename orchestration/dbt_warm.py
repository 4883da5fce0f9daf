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

Each warm process serves one build. Anything that stops the hand-over before dbt starts (no
warm process, one that could not be started or has stopped, another platform) leaves the
wrapper to start dbt itself. The warm process dies with the job (PR_SET_PDEATHSIG) and with
the wrapper (the socket closes). Linux only, like the wrapper. No Dagster here: this module
starts in a fresh interpreter.
"""

from __future__ import annotations

import ctypes
import json
import os
import secrets
import signal
import socket
import struct
import subprocess
import sys
import threading
import traceback
from pathlib import Path

# The checkout this module belongs to: the warm process and the wrapper import from it.
ROOT = Path(__file__).resolve().parents[1]
# The environment variable through which dagster-dbt's dbt process finds the warm one: the
# name of its socket in the abstract namespace (which starts with a NUL byte, left out here).
SOCKET_ENV = "TIERING_DBT_WARM_SOCKET"
_LENGTH = struct.Struct("!I")
_CODE = struct.Struct("!i")
_PR_SET_PDEATHSIG = 1
_PEER_CREDENTIALS = struct.Struct("iII")  # struct ucred: pid, uid, gid


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
    """The warm process of one run, seen from the job: the name it listens on, and its end."""

    def __init__(self) -> None:
        self.name = f"tiering-dbt-{os.getpid()}-{secrets.token_hex(8)}"
        # Listening from here on: a wrapper that connects while dbt is still importing waits
        # for the import to end.
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
            listener.bind(f"\0{self.name}")
            listener.listen(1)
            self.process = subprocess.Popen(
                [sys.executable, "-u", "-m", "orchestration.dbt_warm", str(listener.fileno()), str(os.getpid())],
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


def start() -> WarmDbt | None:
    """A warm dbt for this run, or None where the hand-over is not available (not Linux, or the
    socket or the process could not be made): the dbt step then starts dbt itself."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return WarmDbt()
    except OSError:
        return None


def stoppable() -> None:
    """Let SIGINT and SIGTERM stop this process as they stop a dbt process of its own, whatever
    it inherited from the process that started it, where a signal ignored would stay ignored
    (a job started in the background by a shell ignores SIGINT, which dagster-dbt sends dbt to
    cancel a build) and one blocked in the starting thread would stay blocked."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, (signal.SIGINT, signal.SIGTERM))


def serve(listening: int, parent: int) -> int:
    """Import dbt, run the one build handed over on the socket ``listening``, report its exit
    code."""
    _die_with_parent(parent)
    stoppable()
    listener = socket.socket(fileno=listening)
    import dbt.adapters.duckdb  # noqa: F401 - the adapter the build's profile loads
    from dbt.cli.main import cli  # the import this process is here for

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
    for number, descriptor in enumerate(descriptors):
        os.dup2(descriptor, number)
        os.close(descriptor)
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
    try:
        cli(sys.argv[1:], prog_name="dbt")
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
    connection.sendall(_CODE.pack(code))
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
    sys.exit(serve(int(sys.argv[1]), int(sys.argv[2])))

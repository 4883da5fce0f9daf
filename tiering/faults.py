"""Crash and failure points for the fault tests: the process dies, or a step fails, where a
test asks it to.

``TIERING_CRASH_AT=<name>`` makes ``crash_point(<name>)`` send SIGKILL to its own process,
as a power cut or an operator's ``kill -9`` would, so a test can prove that a run killed at
that instant leaves the published version whole and the next run succeeds. Unset (always,
outside the tests), a crash point does nothing.
"""

from __future__ import annotations

import os
import signal


def crash_point(name: str) -> None:
    if os.environ.get("TIERING_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


class InjectedFailure(RuntimeError):
    """A failure a test asked for (TIERING_FAIL_AT)."""


def fail_point(name: str) -> None:
    """Like ``crash_point``, but the step fails with an error instead of the process dying:
    ``TIERING_FAIL_AT=<name>`` makes a test's run fail there, as a dbt error would."""
    if os.environ.get("TIERING_FAIL_AT") == name:
        raise InjectedFailure(f"failure injected at {name} (TIERING_FAIL_AT)")

"""Fault injection for crash tests: with ``HEIMDEX_FAILPOINT=NAME`` in the environment, the
process kills itself with SIGKILL when it reaches ``failpoint(NAME)``, as a power cut or the OOM
killer would: no cleanup, no exception handler, no flush. Unset (always, outside the tests) it
costs one environment lookup.
"""

from __future__ import annotations

import os
import signal

ENV = "HEIMDEX_FAILPOINT"


def failpoint(name: str) -> None:
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)

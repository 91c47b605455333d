"""Processes the tests start take SIGINT as from a terminal, however the tests themselves run.

A shell starts a background job (`cmd &`, `nohup … &`) with SIGINT ignored, children inherit
that, and Python does not turn an ignored SIGINT into KeyboardInterrupt: a test that stops a
child with SIGINT would wait in vain. Pass `preexec_fn=default_sigint` to `subprocess`.
"""

from __future__ import annotations

import signal


def default_sigint() -> None:
    """In the child, before it runs the program: SIGINT back to its default disposition."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)

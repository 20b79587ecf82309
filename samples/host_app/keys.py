"""Single-key controls from a terminal (POSIX), read on a background thread.

Keys: 0-9 tier index, + / - next / previous tier, b bypass, [ / ] mix down /
up by 0.1, q quit. Does nothing when stdin is not a terminal.
"""
from __future__ import annotations

import os
import sys
import threading
from typing import Callable

HELP = "keys: 0-9 tier, +/- tier up/down, b bypass, [ ] mix -/+, q quit"


def start(on_key: Callable[[str], None], stop: threading.Event,
          thread_setup: Callable[[], object] = lambda: None) -> Callable[[], None]:
    """Starts reading keys; returns a function restoring the terminal."""
    if not sys.stdin.isatty():
        return lambda: None
    try:
        import select
        import termios
        import tty
    except ImportError:  # not POSIX
        return lambda: None
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd)

    def loop() -> None:
        thread_setup()
        while not stop.is_set():
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                ch = os.read(fd, 1).decode(errors="ignore")
                if ch:
                    on_key(ch)

    threading.Thread(target=loop, name="keys", daemon=True).start()
    return lambda: termios.tcsetattr(fd, termios.TCSADRAIN, saved)

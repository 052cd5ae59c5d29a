"""systemd readiness and watchdog pings (sd_notify via the sdnotify package)."""

from __future__ import annotations

import os
import time

import sdnotify

DEFAULT_PING_SECONDS = 5.0


class ServiceNotifier:
    """Tells systemd we are ready, alive, or stopping; harmless when not under systemd."""

    def __init__(self) -> None:
        self._notifier = sdnotify.SystemdNotifier()
        usec = os.environ.get("WATCHDOG_USEC", "")
        # systemd's advice: ping at half the watchdog interval.
        self.ping_seconds = int(usec) / 2e6 if usec.isdigit() else DEFAULT_PING_SECONDS
        self._last_ping = 0.0

    def status(self, text: str) -> None:
        """Show a one-line status in `systemctl status`."""
        self._notifier.notify(f"STATUS={text}")

    def extend_start(self, seconds: float) -> None:
        """Ask for more start-up time (long first-time phrase rendering on a Pi)."""
        self._notifier.notify(f"EXTEND_TIMEOUT_USEC={int(seconds * 1e6)}")

    def ready(self) -> None:
        """Start-up is complete."""
        self._notifier.notify("READY=1")

    def watchdog(self) -> None:
        """Prove the main loop is alive; rate-limited, so it may be called on every wake-up."""
        now = time.monotonic()
        if now - self._last_ping >= self.ping_seconds / 2:
            self._notifier.notify("WATCHDOG=1")
            self._last_ping = now

    def stopping(self) -> None:
        """Shutdown has begun."""
        self._notifier.notify("STOPPING=1")

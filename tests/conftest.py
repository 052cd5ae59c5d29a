"""Shared fixtures: the PulseAudio room for audio tests, and a tiny disk for full-disk tests.

The helpers behind them live in tests/support/; tests import them as `tests.support.<module>`
(tests/ is a package, so pytest puts the repository root on sys.path).
"""

from tests.support.audio_fixtures import audio_room, stop_leftover_recordings  # noqa: F401
from tests.support.small_disk import small_disk  # noqa: F401

"""Shared fixtures: the PulseAudio room for audio tests, and a tiny disk for full-disk tests.

The helpers behind them live in tests/support/; tests import them as `tests.support.<module>`
(tests/ is a package, so pytest puts the repository root on sys.path).
"""

from tests.support.audio_fixtures import audio_room, stop_leftover_recordings  # noqa: F401
from tests.support.small_disk import small_disk  # noqa: F401


def pytest_collection_modifyitems(items: list) -> None:  # type: ignore[type-arg]
    """Under pytest-xdist (scripts/test.sh runs two workers), every audio test goes to one
    worker, one after another: each spoken test times the box against a real-time room, and
    two rooms at once would share the same two cores' scheduling."""
    import pytest

    for item in items:
        if item.get_closest_marker("audio") is not None:
            item.add_marker(pytest.mark.xdist_group("audio"))

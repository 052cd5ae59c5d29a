"""The `audio_room` pytest fixture: one private PulseAudio room shared by every audio test.

tests/conftest.py makes it available everywhere with:
    from tests.support.audio_fixtures import audio_room  # noqa: F401
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.audio_room import AudioRoom, Recording, pulseaudio_missing_reason

_room: AudioRoom | None = None
_users = 0


@pytest.fixture(scope="session")
def audio_room() -> Iterator[AudioRoom]:
    """A running PulseAudio room (skips only when PulseAudio is not installed)."""
    global _room, _users
    reason = pulseaudio_missing_reason()
    if reason:
        pytest.skip(reason)
    if _room is None:
        _room = AudioRoom()
    _users += 1
    try:
        yield _room
    finally:
        _users -= 1
        if _users == 0:
            _room.close()
            _room = None


@pytest.fixture(autouse=True)
def stop_leftover_recordings() -> Iterator[None]:
    """Stop any recording a failed test left running (see Recording.running)."""
    yield
    for recording in list(Recording.running):
        recording.stop()

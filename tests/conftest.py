"""Shared fixtures: the PulseAudio room for audio tests, and a tiny disk for full-disk tests."""

from conftest_audio import audio_room, stop_leftover_recordings  # noqa: F401
from small_disk import small_disk  # noqa: F401

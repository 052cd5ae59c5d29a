"""Shared fixtures: the PulseAudio room for audio tests."""

from conftest_audio import audio_room, stop_leftover_recordings  # noqa: F401

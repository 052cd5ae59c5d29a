"""Shared fixtures: the PulseAudio room for audio tests."""

from conftest_audio import audio_room  # noqa: F401

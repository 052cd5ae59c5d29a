"""Helpers the tests share: the PulseAudio room, small routines, a tiny disk, fixtures."""

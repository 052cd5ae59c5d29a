"""Speech output: synthesis, the phrase cache and playback on the speaker."""

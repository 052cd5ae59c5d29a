"""Training pipeline for the neural command spotter's head (not part of the runtime package)."""

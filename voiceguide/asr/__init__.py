"""Speech input: recognisers behind one interface, and the path from audio to commands."""

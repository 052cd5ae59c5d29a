"""Speech input: the microphone, recognition engines and the listener's decisions."""

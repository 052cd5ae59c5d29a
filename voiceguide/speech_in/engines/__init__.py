"""Recognition engines behind the speech_in.engine.Engine protocol."""

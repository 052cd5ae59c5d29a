"""The pure core: routine model, timeline, session state machine, commands and phrases."""

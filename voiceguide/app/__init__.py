"""The application: config, the runner loop, console, and the wiring of run and serve."""

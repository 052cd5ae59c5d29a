"""Speech models: the manifest, download and install."""

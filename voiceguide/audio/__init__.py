"""Sound devices and the small audio helpers both speech edges share."""

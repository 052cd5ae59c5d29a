"""voiceguide: an offline voice coach for back-care stretching routines."""

__version__ = "0.1.0"

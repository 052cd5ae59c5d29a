"""Routines and locales on disk: loading, validation, the catalogue and the linter."""

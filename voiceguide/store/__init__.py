"""The session history (SQLite)."""

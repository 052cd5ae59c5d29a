"""The test suite; `tests.support` holds the helpers and fixtures the tests share."""

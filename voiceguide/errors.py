"""User-facing errors: one clear line and an exit code, never a traceback."""


class UserError(Exception):
    """An error caused by input or environment, shown to the user as one line."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code

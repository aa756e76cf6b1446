"""Errors that mean "the user asked for something we cannot do", reported as one line by the CLI."""


class PsflError(Exception):
    """Base class for user-facing errors: bad input, missing files, unreachable radios."""


class DataError(PsflError, ValueError):
    """A data source is missing, corrupt or unsuitable (names the file and the fix)."""


class Interrupted(KeyboardInterrupt):
    """A run stopped by SIGINT or SIGTERM; the message says what was kept and how to go on."""

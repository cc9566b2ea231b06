"""The one error type a user should ever see: it says what was wrong and how to fix it."""


class HyperganError(Exception):
    """Bad input or a state the user can fix; the CLI prints it in one line and exits 2."""

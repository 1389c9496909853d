"""Errors that carry a message meant for a person, not a traceback."""


class UserError(Exception):
    """Bad input: the message explains what was wrong. CLI exit status 2."""


class ConfigError(UserError):
    """A missing or malformed setting; the message names the variable."""

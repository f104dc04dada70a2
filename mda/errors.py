"""The one exception type the CLI turns into a one-line message and exit status 1."""


class MdaError(Exception):
    """A user-facing error: bad input file, bad config, unreadable store. Message is one line."""

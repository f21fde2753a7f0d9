"""Database errors in words: what a task's error field, its log and an API answer may say.

SQLAlchemy's message ends with the whole statement and its parameters: a multi-kilobyte INSERT of a
batch's labels, texts of the source, nothing a reader can act on. Only the driver's own message is kept.
"""

from sqlalchemy.exc import DBAPIError, StatementError

MAX_CAUSE_CHARS = 500


def cause_of(error: BaseException, limit: int = MAX_CAUSE_CHARS) -> str:
    """`error` as "Type: message", without any SQL statement or parameters, at most `limit` characters."""
    orig = error.orig if isinstance(error, StatementError) else None
    if isinstance(error, DBAPIError) and orig is not None:
        text = f"{type(error).__name__}: {orig}"  # e.g. IntegrityError: (1062, "Duplicate entry …")
    elif isinstance(error, StatementError):
        text = f"{type(error).__name__}: {orig or 'the statement failed'}"
    else:
        text = f"{type(error).__name__}: {error}"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# MariaDB/MySQL error numbers that mean "the database cannot be used now", not "the statement is wrong":
# access denied (1044, 1045), unknown database (1049), too many connections (1040, 1203), host blocked
# (1129, 1130), lock conflicts (1205, 1213), server gone or lost (2002, 2003, 2006, 2013, 2055), a killed
# connection (1927), the server's inactivity timeout (4031) and a locked account (4151; MySQL: 3118).
UNAVAILABLE = frozenset(
    {1040, 1044, 1045, 1049, 1129, 1130, 1203, 1205, 1213, 1927, 2002, 2003, 2006, 2013, 2055, 3118, 4031, 4151}
)


def unavailable(error: BaseException) -> bool:
    """Whether `error` says a database is out of reach (or busy) rather than that a statement is wrong."""
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    args = getattr(error.orig, "args", ())
    if args and isinstance(args[0], int):
        return args[0] in UNAVAILABLE
    # SQLite: a file that cannot be opened, or a lock held longer than the busy timeout.
    message = str(error.orig).lower()
    return "unable to open database" in message or "database is locked" in message

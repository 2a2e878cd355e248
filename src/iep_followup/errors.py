"""The library's exceptions: one root, specific subclasses, messages that say what to do."""

from __future__ import annotations


class IepFollowupError(Exception):
    """Root of every error the library raises on purpose."""


class ValidationError(IepFollowupError, ValueError):
    """Input that breaks a rule of the domain (bad email, unknown role, ...).

    `field` names the offending field and `location` (when known) the path to it,
    such as ("concerns", 0, "items", 1, "owner"), so a file importer can show the line.
    """

    def __init__(
        self, message: str, *, field: str | None = None, location: tuple[str | int, ...] = ()
    ) -> None:
        self.field = field
        self.location = location
        super().__init__(message)


class NotFoundError(IepFollowupError, LookupError):
    """A student, person or item that the caller named does not exist."""


class NotYourMeetingError(IepFollowupError):
    """The desk's reader may not record this meeting: the file does not name her as its case
    manager, or its student is on another caseload (the same words either way)."""


class TooManyRequestsError(IepFollowupError):
    """Too many sign-in links were asked for from one client: wait, then try again."""


class ConfigError(IepFollowupError):
    """A setting is missing or unsafe; the message names the variable to set."""


class MeetingFileError(IepFollowupError):
    """A meeting file cannot be imported; the message names file, line and field."""

    def __init__(self, path: str, line: int | None, field: str | None, problem: str) -> None:
        self.path = path
        self.line = line
        self.field = field
        self.problem = problem
        where = path if line is None else f"{path}:{line}"
        what = f"{field}: {problem}" if field else problem
        super().__init__(f"{where}: {what}")


class ItemClosedError(ValidationError):
    """An update from a channel that may not change a closed item (domain.accepts_update)."""


class DatabaseError(IepFollowupError):
    """The database could not be reached or refused the operation."""


class StoreRefusedError(IepFollowupError):
    """The database refused a write (a conflict, a value it cannot hold): nothing was saved.

    Not a DatabaseError, which means "unreachable, try again later". The message never holds
    the driver's text: that can carry the SQL and the values (a student's name).
    """


class FileAccessError(IepFollowupError):
    """A file or folder the caller named cannot be read or written; the message says why."""

    def __init__(self, path: object, exc: OSError) -> None:
        self.path = str(path)
        super().__init__(f"{path}: {describe_os_error(exc)}")


class DeliveryError(IepFollowupError):
    """Mail could not be handed to the outgoing transport.

    `address_failing` (by default: when permanent) says the failure is the recipient address's,
    as a server's 5xx refusal is; a message we cannot send for another reason leaves it alone.
    """

    def __init__(
        self, message: str, *, permanent: bool, address_failing: bool | None = None
    ) -> None:
        self.permanent = permanent
        self.address_failing = permanent if address_failing is None else address_failing
        super().__init__(message)


class TransportUnavailableError(DeliveryError):
    """The mail server (or mail folder) cannot be reached at all: every message waits."""

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=False)


class MailboxError(IepFollowupError):
    """The IMAP server could not be reached, refused us, or broke off; the poll can be retried."""


class ReceiverError(IepFollowupError):
    """The SMTP receiver could not start (address in use, bad host, ...)."""


class AlreadyRunningError(IepFollowupError):
    """Another daemon holds this SQLite database."""


def describe_os_error(exc: OSError) -> str:
    """Why a file or folder could not be used, in a few plain words (no errno, no traceback)."""
    if isinstance(exc, FileNotFoundError):
        return "no such file or folder"
    if isinstance(exc, IsADirectoryError):
        return "is a folder, not a file"
    if isinstance(exc, NotADirectoryError):
        return "a part of the path is a file, not a folder"
    if isinstance(exc, FileExistsError):
        return "is a file, not a folder"
    if isinstance(exc, PermissionError):
        return "permission denied (check who owns it and its mode)"
    return exc.strerror or type(exc).__name__


def loggable(exc: BaseException) -> str:
    """What a log line may say about an error: our own errors' messages, others' type only.

    A driver's or a template's exception text can quote SQL, a student's data or an email.
    """
    if isinstance(exc, IepFollowupError):
        return f"{type(exc).__name__}: {exc}"
    return type(exc).__name__

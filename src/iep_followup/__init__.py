"""iep-followup: follow-through for IEP meetings.

The public API is re-exported here; modules not listed are internal.
"""

from iep_followup.balance import (
    BalanceReport,
    BalanceWarning,
    MemberLoad,
    WarningKind,
    check_balance,
)
from iep_followup.config import Settings, load_settings
from iep_followup.domain import (
    Cadence,
    ConcernInfo,
    ItemInfo,
    ItemStatus,
    MeetingKind,
    MeetingRecord,
    MemberInfo,
    Relationship,
    Role,
    StrengthInfo,
    StudentInfo,
    UpdateInput,
    UpdateSource,
)
from iep_followup.errors import (
    AlreadyRunningError,
    ConfigError,
    DatabaseError,
    DeliveryError,
    FileAccessError,
    IepFollowupError,
    MailboxError,
    MeetingFileError,
    NotFoundError,
    NotYourMeetingError,
    ReceiverError,
    StoreRefusedError,
    TooManyRequestsError,
    TransportUnavailableError,
    ValidationError,
)
from iep_followup.meetingfile import load_meeting_file, parse_meeting
from iep_followup.resources import example_meeting_path
from iep_followup.tracker import Tracker
from iep_followup.translations import TranslationGap, translation_gaps
from iep_followup.views import ItemView, MemberView, RecordedMeeting, StudentStatus, UpdateView

__all__ = [
    "AlreadyRunningError",
    "BalanceReport",
    "BalanceWarning",
    "Cadence",
    "ConcernInfo",
    "ConfigError",
    "DatabaseError",
    "DeliveryError",
    "FileAccessError",
    "IepFollowupError",
    "ItemInfo",
    "ItemStatus",
    "ItemView",
    "MailboxError",
    "MeetingFileError",
    "MeetingKind",
    "MeetingRecord",
    "MemberInfo",
    "MemberLoad",
    "MemberView",
    "NotFoundError",
    "NotYourMeetingError",
    "ReceiverError",
    "RecordedMeeting",
    "Relationship",
    "Role",
    "Settings",
    "StoreRefusedError",
    "StrengthInfo",
    "StudentInfo",
    "StudentStatus",
    "TooManyRequestsError",
    "Tracker",
    "TranslationGap",
    "TransportUnavailableError",
    "UpdateInput",
    "UpdateSource",
    "UpdateView",
    "ValidationError",
    "WarningKind",
    "check_balance",
    "example_meeting_path",
    "load_meeting_file",
    "load_settings",
    "parse_meeting",
    "translation_gaps",
]

"""Settings, read from the environment and `.env` (prefix IEP_FOLLOWUP_). The only env reader."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from iep_followup.domain import check_timezone
from iep_followup.errors import ConfigError
from iep_followup.inbound.message import MAX_MESSAGE_BYTES
from iep_followup.meetingfile import MAX_FILE_BYTES

ENV_PREFIX = "IEP_FOLLOWUP_"
MAX_WEB_BODY = 2 * MAX_FILE_BYTES  # 2 MB: a meeting file's 1 MB, pasted or uploaded, and its form


def _check_tz(value: str) -> str:
    return check_timezone(value, "TIMEZONE")


class Settings(BaseSettings):
    """Every setting, its default, and what it means. The README's table mirrors this class."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    database_url: str = Field(
        default="sqlite:///iep-followup.db",
        description="SQLAlchemy URL. Default: a SQLite file in the working folder.",
    )
    smtp_url: SecretStr | None = Field(
        default=None,
        description="smtp://user:pass@host:587 (STARTTLS) or smtps://…:465 (TLS). Unset: write .eml files.",
    )
    mail_dir: Path = Field(
        default=Path("mail"), description="Folder for .eml files when SMTP_URL is unset."
    )
    imap_url: SecretStr | None = Field(
        default=None, description="imaps://user:pass@host/INBOX to poll for replies."
    )
    imap_idle: bool = Field(
        default=True,
        description="Read the mailbox as soon as mail arrives (IMAP IDLE) when the server offers it.",
    )
    from_address: str = Field(
        default="IEP Follow-up <iep-followup@localhost>", description="From: of every email sent."
    )
    reply_address: str = Field(
        default="iep-replies@localhost",
        description="Replies go to <local>+<key>@<domain> of this address.",
    )
    secret_key: SecretStr | None = Field(
        default=None, description="Signs reply keys. Required to send requests."
    )
    timezone: Annotated[str, AfterValidator(_check_tz)] = Field(
        default="America/New_York",
        description="District time zone (IANA name): the default for people and schedules.",
    )
    quiet_hours: str = Field(
        default="19:00-07:00",
        description="No email is sent in these hours, in each recipient's time zone.",
    )
    send_on_weekends: bool = Field(default=False, description="Also send on Saturdays and Sundays.")
    delivery_lease_seconds: int = Field(
        default=300,
        ge=1,
        le=86_400,
        description="A daemon holds the emails it is sending this long; if it dies, they are sent "
        "again after that. Keep it well above the time one batch of 100 emails takes.",
    )
    retry_delay_seconds: int = Field(
        default=60,
        ge=1,
        le=3600,
        description="After a temporary failure (server down, 4xx), wait this long before trying "
        "an email again; the wait doubles each time, up to an hour, for 12 tries.",
    )
    school_calendar: Path | None = Field(
        default=None,
        description="Holidays and breaks: an .ics file, or one date or range per line.",
    )
    reminder_after_school_days: int = Field(
        default=3,
        ge=1,
        le=30,
        description="One reminder after this many school days without an answer.",
    )
    silent_after_school_days: int = Field(
        default=3,
        ge=1,
        le=30,
        description="Counted as silent this many school days after the reminder.",
    )
    reply_key_days: int = Field(
        default=60, ge=1, le=365, description="A reply key stops working after this many days."
    )
    templates_dir: Path | None = Field(
        default=None, description="Your own email templates; any missing file falls back to ours."
    )
    digest_period: Literal["week", "two-weeks", "month"] = Field(
        default="week", description="How much time one case-manager digest covers."
    )
    digest_skip_quiet: bool = Field(default=False, description="Send no digest when nothing moved.")
    jobs_file: Path | None = Field(default=None, description="Your own copy of jobs/schedule.toml.")
    smtp_receiver: str | None = Field(
        default=None, description="host:port where the daemon's own SMTP server accepts replies."
    )
    imap_oauth_token: SecretStr | None = Field(
        default=None, description="An XOAUTH2 access token for the mailbox."
    )
    imap_oauth_token_command: str | None = Field(
        default=None, description="A command that prints a fresh XOAUTH2 access token."
    )
    max_reply_bytes: int = Field(
        default=MAX_MESSAGE_BYTES,
        ge=100_000,
        le=200_000_000,
        description="The largest reply read, in bytes. Photos and files in a reply are dropped, "
        "never stored; the owner of a larger reply is asked to send it again without them, "
        "and the SMTP receiver refuses larger mail before reading it.",
    )
    max_share: float = Field(
        default=0.4,
        gt=0,
        le=1,
        description="Balance warning when one member holds more than this share.",
    )
    makeup_alert_minutes: int | None = Field(
        default=None,
        ge=1,
        le=3000,
        description="The digest says so when a service owes more make-up minutes than this; "
        "unset: one week of that service's promised minutes.",
    )
    web_listen: str = Field(
        default="127.0.0.1:8000",
        description="host:port where `iep-followup web` serves the case manager's desk; set it "
        "explicitly and `iep-followup run` serves the desk too.",
    )
    web_url: str | None = Field(
        default=None,
        description="The desk's public base URL (https://desk.example.org), used in sign-in emails "
        "and, when set, in the one-tap answer buttons of requests. Unset: http:// and WEB_LISTEN.",
    )
    web_max_body: int = Field(
        default=MAX_WEB_BODY,
        ge=MAX_FILE_BYTES,
        le=1_000_000_000,
        description="The largest request body the desk reads, in bytes (room for a meeting file "
        "of 1 MB with its form). A larger one is refused with 413 before it is read: by its "
        "Content-Length, or as soon as a streamed body passes the limit.",
    )
    admins: str | None = Field(
        default=None,
        description="Comma-separated addresses that may sign in to the desk and see every student.",
    )

    ops_listen: str | None = Field(
        default=None,
        description="host:port where a daemon that does not serve the desk answers /healthz, "
        "/readyz and /metrics (the desk's own server answers them when it runs).",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="/metrics answers other hosts than this one only with "
        "`Authorization: Bearer <token>`; unset: loopback only.",
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="json: the daemon's and the desk's log as one JSON object per line.",
    )

    retain_mail_days: int = Field(
        default=400,
        ge=1,
        le=36_500,
        description="The raw text of emails sent and received is removed this many days after; "
        "the updates they recorded stay (a held reply is kept until someone deals with it).",
    )

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str) -> str:
        parse_quiet_hours(value)
        return value

    @field_validator("web_listen")
    @classmethod
    def _web_listen(cls, value: str) -> str:
        parse_listen(value)
        return value

    @field_validator("ops_listen")
    @classmethod
    def _ops_listen(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parse_listen(value)
        return value.strip()

    @field_validator("web_url")
    @classmethod
    def _web_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("write the desk's address with http:// or https://")
        return value

    @field_validator("database_url")
    @classmethod
    def _url_not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value.strip()


def load_settings(env_file: Path | None = Path(".env"), **overrides: Any) -> Settings:
    """Read settings; a bad value becomes one ConfigError naming the variable to fix."""
    try:
        return Settings(_env_file=env_file, **overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ENV_PREFIX + "_".join(str(part) for part in first["loc"]).upper()
        raise ConfigError(f"{name}: {first['msg']}") from None


def require_settings_file(env_file: Path) -> Path:
    """A settings file named on purpose (`--env-file`) must be there: reading on without it
    would use the defaults, a new empty database in the working folder. A missing `.env` that
    nobody named is fine, and `load_settings` skips it."""
    if not env_file.is_file():
        raise ConfigError(f"the settings file {env_file} cannot be read: no such file")
    return env_file


def parse_quiet_hours(value: str) -> tuple[time, time]:
    """'19:00-07:00' -> (19:00, 07:00): the start and end of the quiet period."""
    try:
        start, end = (time.fromisoformat(part.strip()) for part in value.split("-"))
    except ValueError:
        raise ValueError("write it as HH:MM-HH:MM, like 19:00-07:00") from None
    return start, end


def parse_listen(value: str) -> tuple[str, int]:
    """'127.0.0.1:8000' -> ('127.0.0.1', 8000); '[::1]:8000' -> ('::1', 8000)."""
    host, sep, port = value.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("write it as host:port, like 127.0.0.1:8000")
    return host.strip("[]"), int(port)


def admin_addresses(settings: Settings) -> frozenset[str]:
    """IEP_FOLLOWUP_ADMINS as lowercased addresses."""
    return frozenset(
        part.strip().lower() for part in (settings.admins or "").split(",") if part.strip()
    )


def require_secret(settings: Settings) -> str:
    """The signing secret, or a ConfigError that says how to make one."""
    secret = settings.secret_key.get_secret_value() if settings.secret_key else ""
    if not secret:
        raise ConfigError(
            'IEP_FOLLOWUP_SECRET_KEY is not set; set it to a long random string, e.g. python -c "import secrets; '
            'print(secrets.token_urlsafe(32))"'
        )
    if len(secret) < 16:
        raise ConfigError(
            "IEP_FOLLOWUP_SECRET_KEY is too short to be safe; use at least 16 random characters"
        )
    return secret

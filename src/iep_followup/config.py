"""Settings, read from the environment and `.env` (prefix IEP_FOLLOWUP_). The only env reader."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from iep_followup.domain import check_timezone
from iep_followup.errors import ConfigError

ENV_PREFIX = "IEP_FOLLOWUP_"


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
    max_share: float = Field(
        default=0.4,
        gt=0,
        le=1,
        description="Balance warning when one member holds more than this share.",
    )

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

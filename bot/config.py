"""Settings from the environment (and `.env`), built once in the composition root."""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _env(name: str) -> AliasChoices:
    return AliasChoices(name, name.lower())


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str = Field("sqlite:///./collectbot.db", validation_alias=_env("COLLECTBOT_DATABASE_URL"))
    policy_file: str | None = Field(None, validation_alias=_env("COLLECTBOT_POLICY_FILE"))
    timezone: str = Field("UTC", validation_alias=_env("COLLECTBOT_TIMEZONE"))
    sweep_interval_minutes: int = Field(15, ge=0, validation_alias=_env("COLLECTBOT_SWEEP_INTERVAL_MINUTES"))
    templates_dir: str | None = Field(None, validation_alias=_env("COLLECTBOT_TEMPLATES_DIR"))

    telegram_bot_token: SecretStr | None = Field(None, validation_alias=_env("TELEGRAM_BOT_TOKEN"))
    telegram_api_url: str = Field("https://api.telegram.org/bot", validation_alias=_env("COLLECTBOT_TELEGRAM_API_URL"))
    telegram_file_url: str | None = Field(None, validation_alias=_env("COLLECTBOT_TELEGRAM_FILE_URL"))
    # Webhook mode of `collectbot run` (instead of long polling) when the public URL is set.
    telegram_webhook_url: str | None = Field(None, validation_alias=_env("COLLECTBOT_TELEGRAM_WEBHOOK_URL"))
    telegram_webhook_listen: str = Field("127.0.0.1", validation_alias=_env("COLLECTBOT_TELEGRAM_WEBHOOK_LISTEN"))
    telegram_webhook_port: int = Field(8443, validation_alias=_env("COLLECTBOT_TELEGRAM_WEBHOOK_PORT"))
    telegram_webhook_path: str = Field("telegram", validation_alias=_env("COLLECTBOT_TELEGRAM_WEBHOOK_PATH"))
    telegram_webhook_secret: SecretStr | None = Field(
        None, validation_alias=_env("COLLECTBOT_TELEGRAM_WEBHOOK_SECRET")
    )

    slack_bot_token: SecretStr | None = Field(None, validation_alias=_env("SLACK_BOT_TOKEN"))
    slack_app_token: SecretStr | None = Field(None, validation_alias=_env("SLACK_APP_TOKEN"))
    slack_signing_secret: SecretStr | None = Field(None, validation_alias=_env("SLACK_SIGNING_SECRET"))
    slack_http_port: int = Field(3000, validation_alias=_env("COLLECTBOT_SLACK_HTTP_PORT"))
    slack_api_url: str = Field("https://slack.com/api/", validation_alias=_env("COLLECTBOT_SLACK_API_URL"))
    slack_channel: str | None = Field(None, validation_alias=_env("COLLECTBOT_SLACK_CHANNEL"))
    credit_staff: str = Field("", validation_alias=_env("COLLECTBOT_CREDIT_STAFF"))
    # The daily digest's time of day (company time zone) and the weekly summary's day (at that time).
    slack_digest_at: str = Field("08:00", validation_alias=_env("COLLECTBOT_SLACK_DIGEST_AT"))
    slack_weekly_on: str = Field("mon", validation_alias=_env("COLLECTBOT_SLACK_WEEKLY_ON"))

    @field_validator("slack_digest_at")
    @classmethod
    def _time_of_day(cls, value: str) -> str:
        import re

        m = re.fullmatch(r"\s*([01]?\d|2[0-3]):([0-5]\d)\s*", value)
        if not m:
            raise ValueError(f"COLLECTBOT_SLACK_DIGEST_AT must be a time like 08:00, not {value!r}")
        return f"{int(m.group(1)):02d}:{m.group(2)}"

    @field_validator("slack_weekly_on")
    @classmethod
    def _weekday(cls, value: str) -> str:
        day = value.strip().lower()[:3]
        if day not in WEEKDAYS:
            raise ValueError(f"COLLECTBOT_SLACK_WEEKLY_ON must be a weekday like mon, not {value!r}")
        return day

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    def secret_values(self) -> list[str]:
        """Every secret in this configuration (tokens, the signing secret, the database password), for
        bot.logsafe to keep out of the logs."""
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        values = [s.get_secret_value() for s in (self.telegram_bot_token, self.slack_bot_token,
                                                 self.slack_app_token, self.slack_signing_secret) if s is not None]
        try:
            password = make_url(self.database_url).password
        except (ArgumentError, ValueError):
            password = None
        return values + ([str(password)] if password else [])

    @property
    def credit_staff_ids(self) -> frozenset[str]:
        return frozenset(s.strip() for s in self.credit_staff.split(",") if s.strip())

    @property
    def resolved_telegram_file_url(self) -> str:
        if self.telegram_file_url:
            return self.telegram_file_url
        base = self.telegram_api_url.rstrip("/")
        if base.endswith("/bot"):
            return base[: -len("/bot")] + "/file/bot"
        return base + "/file/bot"

"""Configuration from the environment (and an optional `.env`), SPEC §7."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///okrbot.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str = Field(DEFAULT_DATABASE_URL, alias="DATABASE_URL")
    okrs: str | None = Field(None, alias="OKRBOT_OKRS")
    log_level: str = Field("INFO", alias="OKRBOT_LOG_LEVEL")
    slack_bot_token: str | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: str | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: str | None = Field(None, alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field("https://slack.com/api/", alias="SLACK_API_URL")
    microsoft_app_id: str | None = Field(None, alias="MICROSOFT_APP_ID")
    microsoft_app_password: str | None = Field(None, alias="MICROSOFT_APP_PASSWORD")
    microsoft_app_tenant_id: str | None = Field(None, alias="MICROSOFT_APP_TENANT_ID")
    microsoft_app_type: str | None = Field(None, alias="MICROSOFT_APP_TYPE")
    # Teams without authentication, for the Bot Framework Emulator on this machine only: the
    # server then listens on loopback and calls only loopback service URLs
    teams_emulator: bool = Field(False, alias="OKRBOT_TEAMS_EMULATOR")
    public_url: str | None = Field(None, alias="OKRBOT_PUBLIC_URL")
    api_token: str | None = Field(None, alias="OKRBOT_API_TOKEN")
    raw_reply_days: int = Field(365, ge=1, alias="OKRBOT_RAW_REPLY_DAYS")
    log_format: str = Field("text", pattern="^(text|json)$", alias="OKRBOT_LOG_FORMAT")
    # outbound delivery: the pace adapts to each platform; a rate set here is its ceiling
    slack_rate: float | None = Field(None, gt=0, alias="OKRBOT_SLACK_RATE")
    slack_channel_rate: float = Field(1.0, gt=0, alias="OKRBOT_SLACK_CHANNEL_RATE")
    teams_rate: float | None = Field(None, gt=0, alias="OKRBOT_TEAMS_RATE")
    delivery_concurrency: int = Field(32, ge=1, alias="OKRBOT_DELIVERY_CONCURRENCY")
    # the CLI stops delivering after this many seconds in which no message was finished
    delivery_stall: float = Field(120.0, gt=0, alias="OKRBOT_DELIVERY_STALL")

    @property
    def slack_configured(self) -> bool:
        return bool(self.slack_bot_token)

    @property
    def teams_authenticated(self) -> bool:
        """Teams with the Bot Framework's authentication: an app id is set."""
        return bool(self.microsoft_app_id)

    @property
    def teams_emulator_mode(self) -> bool:
        """Teams with authentication off (local emulator use): the explicit switch, no app id."""
        return self.teams_emulator and not self.microsoft_app_id

    @property
    def teams_configured(self) -> bool:
        """`/api/messages` is mounted and Teams delivers: in exactly these two cases."""
        return self.teams_authenticated or self.teams_emulator_mode

    @property
    def any_platform(self) -> bool:
        return self.slack_configured or self.teams_configured

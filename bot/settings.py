"""Settings from the environment or a `.env` file; a bad value is one clear line and exit code 2."""

from __future__ import annotations

import re
import sys
from datetime import time
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from tasks.earnings import WEEKDAYS, EarningsConfig, QuietHours
from tasks.money import MoneyError, parse_amount, to_micros
from tasks.telegram_limits import FILE_DOWNLOAD_BYTES

EXIT_BAD_SETTINGS = 2
MAX_HOURLY_RATE = Decimal(10_000)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: str | None = Field(default=None, description="The token BotFather gave")
    telegram_api_url: str = "https://api.telegram.org"
    database_path: Path = Path("data/petites-mains.sqlite3")
    operator_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    timezone: str = "Europe/Paris"
    default_language: Literal["fr", "en"] = "fr"
    # Pushes (sendMessage) per second overall, Telegram's bulk limit is about 30.
    send_rate: float = Field(default=25.0, gt=0)
    # The secret Telegram sends back with each webhook call; random per run when unset.
    webhook_secret: str | None = None
    # Webhook mode: the local address the bot listens on (behind the HTTPS proxy), and how
    # many connections it holds at once (bot/transport/webserver.py).
    webhook_listen: str = "127.0.0.1"
    webhook_max_connections: int = Field(default=100, ge=1, le=10_000)
    # Earnings: the fair-pay floor per hour (in each pack's currency), weekly statements, payouts.
    min_hourly_rate: str = "12.00"
    statement_day: str = "monday"
    statement_time: str = "09:00"
    quiet_hours: str = "22:00-08:00"
    payout_day: int = 1
    # The largest pack file an operator may send in the chat, in MB (Telegram's own limit for
    # bots downloading a file is 20 MB, tasks/telegram_limits.py; bigger packs load with the CLI).
    max_pack_upload_mb: float = Field(default=20.0, gt=0, le=FILE_DOWNLOAD_BYTES / 1024 / 1024)

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not re.fullmatch(r"[0-9]+:[A-Za-z0-9_-]+", value):
            raise ValueError("does not look like a token from BotFather (digits:secret)")
        return value

    @field_validator("telegram_api_url")
    @classmethod
    def _url(cls, value: str) -> str:
        # Checked here, whole: an address that only fails when the bot calls it would put the
        # token (part of every call's URL) into the error message.
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        parts = urlsplit(value)
        try:
            port_ok = parts.port is None or 0 < parts.port < 65536
        except ValueError:
            port_ok = False
        if not parts.hostname or not port_ok or parts.query or parts.fragment:
            raise ValueError(f"not a server address: {value!r} (e.g. https://api.telegram.org)")
        if any(c.isspace() for c in value) or parts.username or parts.password:
            raise ValueError(f"not a server address: {value!r} (e.g. https://api.telegram.org)")
        return value.rstrip("/")

    @field_validator("webhook_listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        host = value.strip()
        if host.startswith("[") and host.endswith("]"):  # an IPv6 address as URLs write it
            host = host[1:-1]
        if not host or any(c.isspace() or c in "/[]" for c in host):
            raise ValueError(
                f"not a local address: {value!r} (e.g. 127.0.0.1, or 0.0.0.0 for every one)"
            )
        return host

    @field_validator("operator_ids", mode="before")
    @classmethod
    def _ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            bad = [p for p in parts if not p.lstrip("-").isdigit()]
            if bad:
                raise ValueError(f"not a Telegram user id: {bad[0]!r} (comma-separated integers)")
            return frozenset(int(p) for p in parts)
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. Europe/Paris)") from None
        return value

    @field_validator("min_hourly_rate")
    @classmethod
    def _rate(cls, value: str) -> str:
        try:
            amount = parse_amount(value, maximum=MAX_HOURLY_RATE)
        except MoneyError:
            amount = Decimal(-1)
        if amount <= 0:
            raise ValueError(
                f"not a positive decimal amount per hour up to {MAX_HOURLY_RATE}: {value!r}"
                " (e.g. 12.00)"
            )
        return value.strip()

    @field_validator("statement_day")
    @classmethod
    def _day(cls, value: str) -> str:
        day = value.strip().lower()
        matches = [name for name in WEEKDAYS if len(day) >= 3 and name.startswith(day)]
        if len(matches) != 1:
            raise ValueError(f"not a day of the week: {value!r} (e.g. monday)")
        return matches[0]

    @field_validator("statement_time")
    @classmethod
    def _time(cls, value: str) -> str:
        parse_clock_time(value)
        return value.strip()

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, value: str) -> str:
        parse_quiet_hours(value)
        return value.strip()

    @field_validator("payout_day", mode="before")
    @classmethod
    def _payout_day(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip().isdigit():
            raise ValueError(f"not a day of the month: {value!r} (1 to 28)")
        if not 1 <= int(value) <= 28:  # type: ignore[call-overload]
            raise ValueError(f"not a day of the month: {value!r} (1 to 28, every month has it)")
        return int(value)  # type: ignore[call-overload]

    def earnings_config(self) -> EarningsConfig:
        """What the earnings features need from the settings (a domain object)."""
        return EarningsConfig(
            zone=self.tz,
            min_hourly_micros=to_micros(parse_amount(self.min_hourly_rate)),
            statement_weekday=WEEKDAYS.index(self.statement_day),
            statement_time=parse_clock_time(self.statement_time),
            quiet_hours=parse_quiet_hours(self.quiet_hours),
            payout_day=self.payout_day,
        )

    @property
    def max_pack_upload_bytes(self) -> int:
        return int(self.max_pack_upload_mb * 1024 * 1024)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def api_base_url(self) -> str:
        return f"{self.telegram_api_url}/bot"

    @property
    def api_file_url(self) -> str:
        return f"{self.telegram_api_url}/file/bot"


def parse_clock_time(text: str) -> time:
    """'09:00' as a time of day; a ValueError that says what is expected otherwise."""
    match = re.fullmatch(r"([01]?[0-9]|2[0-3]):([0-5][0-9])", text.strip())
    if not match:
        raise ValueError(f"not a time of day: {text!r} (HH:MM, e.g. 09:00)")
    return time(int(match[1]), int(match[2]))


def parse_quiet_hours(text: str) -> QuietHours | None:
    """'22:00-08:00' (may wrap midnight); 'off' or '' for none."""
    if text.strip().lower() in ("", "off", "none"):
        return None
    start, sep, end = text.partition("-")
    try:
        if not sep:
            raise ValueError
        quiet = QuietHours(parse_clock_time(start), parse_clock_time(end))
    except ValueError:
        raise ValueError(f"not a range of hours: {text!r} (e.g. 22:00-08:00, or off)") from None
    if quiet.start == quiet.end:
        raise ValueError(f"an empty range: {text!r} (use off for no quiet hours)")
    return quiet


class SettingsError(Exception):
    """A setting is missing or bad; the message names it in one line."""


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"setting {name}: {message}") from None


def settings_or_exit(**overrides: object) -> Settings:
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_SETTINGS) from None

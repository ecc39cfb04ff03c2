"""Snooze times: an ISO-8601 instant, or a preset resolved in the user's time zone."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from server.errors import InvalidInput

MORNING_HOUR = 8
EVENING_HOUR = 18
AFTERNOON_HOUR = 13
PRESETS = ("later_today", "this_afternoon", "this_evening", "tomorrow", "this_weekend", "next_week")


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone {name!r}", field="time_zone") from None


def resolve(until: str, now_ms: int, time_zone: str, *, field: str = "until") -> int:
    """Unix ms for `until`: an ISO-8601 time (with an offset, or local to `time_zone`) or
    one of PRESETS, computed from `now_ms` in `time_zone`."""
    tz = zone(time_zone)
    now = datetime.fromtimestamp(now_ms / 1000, tz)
    if until in PRESETS:
        return int(_preset(until, now).timestamp() * 1000)
    try:
        moment = datetime.fromisoformat(until.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            f"'{field}' must be an ISO-8601 time or one of {', '.join(PRESETS)}", field=field
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return int(moment.timestamp() * 1000)


def _at(day: datetime, hour: int) -> datetime:
    return day.replace(hour=hour, minute=0, second=0, microsecond=0)


def _preset(name: str, now: datetime) -> datetime:
    if name == "later_today":
        return now + timedelta(hours=3)
    if name == "this_afternoon":
        target = _at(now, AFTERNOON_HOUR)
        return target if target > now else now + timedelta(hours=3)
    if name == "this_evening":
        target = _at(now, EVENING_HOUR)
        return target if target > now else _at(now + timedelta(days=1), EVENING_HOUR)
    if name == "tomorrow":
        return _at(now + timedelta(days=1), MORNING_HOUR)
    if name == "this_weekend":  # the coming Saturday morning
        target = _at(now + timedelta(days=(5 - now.weekday()) % 7), MORNING_HOUR)
        return target if target > now else target + timedelta(days=7)
    days_to_monday = (7 - now.weekday()) % 7 or 7
    return _at(now + timedelta(days=days_to_monday), MORNING_HOUR)

"""Times people give for snoozes, tasks and Send Later: an ISO-8601 instant, a preset, or
natural language ("next Tuesday at 3pm", "in 2 hours"), resolved in the user's time zone."""

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
    moment: datetime | None
    try:
        moment = datetime.fromisoformat(until.replace("Z", "+00:00"))
    except ValueError:
        moment = _natural(until, now, time_zone)
    if moment is None:
        raise InvalidInput(
            f"'{field}' must be an ISO-8601 time, a time in words such as \"next Tuesday at"
            f' 3pm", or one of {", ".join(PRESETS)}',
            field=field,
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return int(moment.timestamp() * 1000)


def _natural(text: str, now: datetime, time_zone: str) -> datetime | None:
    """English words for a time, from `now` in `time_zone`, preferring the future. A day
    without a time of day ("friday") means that morning, like the presets."""
    import dateparser  # slow to import; only words need it

    if not text.strip() or len(text) > 100:
        return None
    moment: datetime | None = dateparser.parse(
        text,
        languages=["en"],
        settings={
            "RELATIVE_BASE": now.replace(tzinfo=None),
            "TIMEZONE": time_zone,
            "RETURN_AS_TIMEZONE_AWARE": True,
            "PREFER_DATES_FROM": "future",
        },
    )
    if moment is None:
        return None
    if (moment.hour, moment.minute, moment.second) == (0, 0, 0) and not _names_a_time(text):
        moment = _at(moment, MORNING_HOUR)
    return moment


def _names_a_time(text: str) -> bool:
    lowered = text.lower()
    return any(ch.isdigit() for ch in lowered) or "midnight" in lowered or "noon" in lowered


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

"""Snooze presets resolve in the user's time zone; bad times are named."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from server.conversations.times import resolve
from server.errors import InvalidInput

PARIS = ZoneInfo("Europe/Paris")
# Wednesday 2026-11-25 10:00 in Paris
NOW = int(datetime(2026, 11, 25, 10, 0, tzinfo=PARIS).timestamp() * 1000)


def local(ms: int, tz: str = "Europe/Paris") -> str:
    return datetime.fromtimestamp(ms / 1000, ZoneInfo(tz)).strftime("%a %Y-%m-%d %H:%M")


@pytest.mark.parametrize(
    ("preset", "expected"),
    [
        ("later_today", "Wed 2026-11-25 13:00"),
        ("this_afternoon", "Wed 2026-11-25 13:00"),
        ("this_evening", "Wed 2026-11-25 18:00"),
        ("tomorrow", "Thu 2026-11-26 08:00"),
        ("this_weekend", "Sat 2026-11-28 08:00"),
        ("next_week", "Mon 2026-11-30 08:00"),
    ],
)
def test_presets_in_the_users_time_zone(preset: str, expected: str) -> None:
    assert local(resolve(preset, NOW, "Europe/Paris")) == expected


def test_the_same_preset_differs_by_time_zone() -> None:
    tokyo = resolve("tomorrow", NOW, "Asia/Tokyo")
    assert local(tokyo, "Asia/Tokyo") == "Thu 2026-11-26 08:00"
    assert tokyo != resolve("tomorrow", NOW, "Europe/Paris")


def test_iso_times_with_and_without_offsets() -> None:
    assert resolve("2026-12-01T09:00:00Z", NOW, "Europe/Paris") == 1796115600000
    assert local(resolve("2026-12-01T09:00", NOW, "Europe/Paris")) == "Tue 2026-12-01 09:00"


@pytest.mark.parametrize(("until", "zone_name"), [("soonish", "UTC"), ("tomorrow", "Mars/Base")])
def test_bad_times_are_named(until: str, zone_name: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        resolve(until, NOW, zone_name)
    assert caught.value.field in {"until", "time_zone"}


@pytest.mark.parametrize(
    ("words", "zone_name", "expected"),
    [
        ("next Tuesday at 3pm", "Europe/Paris", "Tue 2026-12-01 15:00"),
        ("tomorrow at 9am", "Europe/Paris", "Thu 2026-11-26 09:00"),
        ("in 2 hours", "Europe/Paris", "Wed 2026-11-25 12:00"),
        ("friday", "Europe/Paris", "Fri 2026-11-27 08:00"),  # a day alone: that morning
        ("3pm", "America/New_York", "Wed 2026-11-25 15:00"),  # 4 am there: later today
    ],
)
def test_times_in_words_resolve_in_the_users_time_zone(
    words: str, zone_name: str, expected: str
) -> None:
    assert local(resolve(words, NOW, zone_name), zone_name) == expected


@pytest.mark.parametrize("words", ["someday", "", "x" * 200, "the day after never"])
def test_words_that_name_no_time_are_refused(words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        resolve(words, NOW, "UTC", field="send_at")
    assert caught.value.field == "send_at"

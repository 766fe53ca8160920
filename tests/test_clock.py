"""One clock and one way to read dates: as people write them, counted in the unit's zone, shown to the minute."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, insert, select
from typer.testing import CliRunner

from tipfusion import clock
from tipfusion.cli.main import app
from tipfusion.errors import ConfigurationError
from tipfusion.store.tables import referrals

IST = ZoneInfo("Asia/Kolkata")


def test_dates_as_people_write_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIPFUSION_NOW", "2027-03-10T00:20:00+05:30")  # still 9 March in UTC
    assert clock.parse_day("2026-11-28", IST) == date(2026, 11, 28)
    assert clock.parse_day("28/11/2026", IST, "IN") == date(2026, 11, 28)
    assert clock.parse_day("5.12.2026", IST, "IN") == date(2026, 12, 5)
    assert clock.parse_day("12/05/2026", IST, "US") == date(2026, 12, 5)
    assert clock.parse_day("today", IST) == date(2027, 3, 10)
    assert clock.parse_day("Yesterday", IST) == date(2027, 3, 9)
    assert clock.parse_day("today", UTC) == date(2027, 3, 9)
    for wrong in ("31/02/2026", "2026-13-01", "seven", "", "28/11/26"):
        with pytest.raises(ValueError, match="DD/MM/YYYY"):
            clock.parse_day(wrong, IST)


def test_moments_are_utc_and_local_unless_they_say_otherwise() -> None:
    assert clock.parse_moment("2026-12-02T17:45", IST) == datetime(2026, 12, 2, 12, 15, tzinfo=UTC)
    assert clock.parse_moment("2026-12-02T17:45Z", IST) == datetime(2026, 12, 2, 17, 45, tzinfo=UTC)
    assert clock.parse_moment("2026-12-02 17:45+01:00", IST) == datetime(2026, 12, 2, 16, 45, tzinfo=UTC)
    with pytest.raises(ValueError, match="not a date or time"):
        clock.parse_moment("soon", IST)


def test_an_operation_counts_days_in_the_units_zone() -> None:
    starts = clock.parse_moment("2026-11-28", IST)
    ends = clock.parse_moment("2026-12-05", IST, end=True)
    inside = [datetime(2026, 11, 28, 0, 30, tzinfo=IST), datetime(2026, 12, 5, 23, 30, tzinfo=IST)]
    outside = [datetime(2026, 11, 27, 23, 30, tzinfo=IST), datetime(2026, 12, 6, 0, 30, tzinfo=IST)]
    assert all(starts <= moment <= ends for moment in inside)
    assert not any(starts <= moment <= ends for moment in outside)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)), st.integers(0, 24 * 60 - 1))
def test_every_minute_of_a_local_day_is_inside_that_day(day: date, minute: int) -> None:
    moment = datetime.combine(day, datetime.min.time(), IST) + timedelta(minutes=minute)
    text = day.strftime("%d/%m/%Y")
    assert clock.parse_moment(text, IST) <= moment <= clock.parse_moment(text, IST, end=True)


def test_times_are_shown_to_the_minute_in_the_zone() -> None:
    assert clock.show_time(datetime(2026, 12, 2, 12, 15, 59, tzinfo=UTC), IST) == "2026-12-02 17:45 IST"
    assert clock.show_time(datetime(2026, 12, 2, 12, 15), IST) == "2026-12-02 17:45 IST"  # naive: UTC (SQLite)
    assert clock.show_time("2026-12-02T12:15:00+00:00", IST) == "2026-12-02 17:45 IST"
    assert clock.show_time(None, IST) == ""


def test_the_clock_moves_on_from_tipfusion_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIPFUSION_NOW", "2027-03-10T00:20:00+05:30")
    first, second = clock.now(), clock.now()
    assert first.tzinfo is UTC and datetime(2027, 3, 9, 18, 50, tzinfo=UTC) <= first <= second
    assert second - first < timedelta(seconds=5)
    monkeypatch.setenv("TIPFUSION_NOW", "2027-03-10T00:20:00")
    with pytest.raises(ConfigurationError, match="needs its zone"):
        clock.now()
    monkeypatch.delenv("TIPFUSION_NOW")
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)


def test_operation_create_takes_the_referrals_of_its_local_days(
    engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    moments = {
        "in-first-minutes": datetime(2026, 11, 28, 0, 30, tzinfo=IST),
        "in-last-minutes": datetime(2026, 12, 5, 23, 30, tzinfo=IST),
        "day-before": datetime(2026, 11, 27, 23, 30, tzinfo=IST),
        "day-after": datetime(2026, 12, 6, 0, 30, tzinfo=IST),
    }
    with engine.begin() as conn:
        for n, (name, moment) in enumerate(moments.items()):
            conn.execute(
                insert(referrals).values(
                    reference=name,
                    subject_type="suspect",
                    subject_id=f"S{n}",
                    suspects=[f"S{n}"],
                    kind="initial",
                    built_at=moment,
                    output_dir=name,
                    files={},
                    manifest_sha256="0" * 64,
                    snapshot={},
                    actor="test",
                )
            )
    monkeypatch.setenv("TIPFUSION_NOW", "2026-12-10T12:00:00+05:30")
    result = CliRunner().invoke(
        app, ["--database", db_url, "operation", "create", "OP", "--from", "28/11/2026", "--to", "2026-12-05"]
    )
    assert result.exit_code == 0, result.output
    assert "2026-11-28 00:00 IST … 2026-12-05 23:59 IST" in result.output
    with engine.connect() as conn:
        joined = set(conn.execute(select(referrals.c.reference).where(referrals.c.operation == "OP")).scalars())
    assert joined == {"in-first-minutes", "in-last-minutes"}

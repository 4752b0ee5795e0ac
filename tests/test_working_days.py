"""The earliest porting date: a lead time of working days, skipping weekends and Swedish days off."""

from datetime import date

import pytest

from wizard.porting import earliest_porting_date, is_working_day


@pytest.mark.parametrize(
    ("kind", "today", "earliest"),
    [
        ("mobile", date(2026, 11, 23), date(2026, 11, 30)),  # Mon + 5 working days, over a weekend
        ("mobile", date(2026, 12, 17), date(2026, 12, 28)),  # Christmas Eve and Day are off
        ("fixed", date(2026, 12, 17), date(2027, 1, 7)),  # and New Year's Eve, New Year's Day, Epiphany
        ("mobile", date(2027, 3, 24), date(2027, 4, 2)),  # Good Friday and Easter Monday
        ("mobile", date(2027, 6, 21), date(2027, 6, 29)),  # Midsummer Eve
        ("mobile", date(2027, 4, 29), date(2027, 5, 7)),  # Ascension Day, Thursday 6 May
    ],
)
def test_earliest_porting_date(kind, today, earliest):
    assert earliest_porting_date(kind, today) == earliest


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 12, 23), True),
        (date(2026, 12, 24), False),
        (date(2026, 12, 26), False),
        (date(2027, 6, 25), False),
        (date(2027, 6, 28), True),
        (date(2026, 11, 28), False),
    ],
)
def test_working_days(day, working):
    assert is_working_day(day) is working

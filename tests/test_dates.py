"""Dates as people type them and exports write them: one list of forms for a typed date and for
a whole imported column, so a date the CLI reads is a date an import reads, and the other way."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from closuremap.geo.dates import (
    DATETIME_FORMATS,
    DateError,
    formats_for,
    parse_date,
    parse_datetime,
)
from closuremap.geo.errors import ClosuremapError
from closuremap.layers.coercion import coerce_column
from closuremap.layers.model import Field

WHEN = datetime(2024, 12, 24, 10, 5, 30)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2024-12-24T10:00", datetime(2024, 12, 24, 10, 0)),
        ("2024-12-24T10:00:30", datetime(2024, 12, 24, 10, 0, 30)),
        ("2024-12-24 10:00", datetime(2024, 12, 24, 10, 0)),
        ("2024-12-24", datetime(2024, 12, 24, 0, 0)),
        ("24/12/2024 10:00", datetime(2024, 12, 24, 10, 0)),
        (" 24/12/2024 ", datetime(2024, 12, 24, 0, 0)),
        ("24 Dec 2024", datetime(2024, 12, 24, 0, 0)),
        ("2024-12-24T10:00Z", datetime(2024, 12, 24, 10, 0)),
        ("2024-12-24T10:00+00:00", datetime(2024, 12, 24, 10, 0)),
        ("2024-12-24T10:00:30.250-0100", datetime(2024, 12, 24, 10, 0, 30, 250000)),
        ("24-12-2024", datetime(2024, 12, 24, 0, 0)),
    ],
)
def test_parse_datetime_reads_iso_and_uk_forms(text: str, expected: datetime) -> None:
    assert parse_datetime(text, "--x") == expected


@pytest.mark.parametrize("text", ["2024-13-45T10:00", "12/24/2024", "tomorrow", ""])
def test_parse_datetime_rejects_unreadable_dates_naming_the_option(text: str) -> None:
    with pytest.raises(DateError, match=r"^--notice-served: .*YYYY-MM-DDTHH:MM"):
        parse_datetime(text, "--notice-served")


def test_a_date_error_is_a_user_error_the_cli_and_pages_report() -> None:
    assert issubclass(DateError, ClosuremapError)
    with pytest.raises(DateError):
        parse_date("31/02/2024", "order_made_on")


@pytest.mark.parametrize("fmt", DATETIME_FORMATS)
def test_a_typed_date_and_an_imported_column_read_every_form_alike(fmt: str) -> None:
    text = WHEN.strftime(fmt)
    typed = parse_datetime(text, "--when")
    values, reasons = coerce_column(pd.Series([text, text]), Field("when", "datetime"))
    assert reasons == [None, None]
    assert values[0] == typed.strftime("%Y-%m-%dT%H:%M:%S" if "%H" in fmt else "%Y-%m-%d")


def test_the_form_of_the_first_value_is_tried_first() -> None:
    assert formats_for("24.12.2024")[0] == "%d.%m.%Y"
    assert formats_for(None) == list(DATETIME_FORMATS)
    assert sorted(formats_for("24.12.2024")) == sorted(DATETIME_FORMATS)

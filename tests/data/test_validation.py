"""Row validation: every bad row named by file, line and column; strict raises, skip keeps the good rows."""

from __future__ import annotations

import gzip
import logging
import time
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from driftrec.data.readers import read_events, read_items, read_raw
from driftrec.data.validation import (
    DataValidationError,
    RowError,
    ValidationConfig,
    check_numeric,
    parse_timestamps,
    validate_events,
)

EVENTS_CSV = """user_id,item_id,ts,event,value
u1,i1,2021-01-01T10:00:00,view,
u1,i2,1609495200,buy,19.99
u2,i3,2021-01-02,pv,abc
,i4,2021-01-02,view,
u3,i5,2021-13-45,view,
u3,i6,2021-01-03,teleport,
u4,i7,2021-01-04 08:00:00+02:00,FAV,1
"""

ITEMS_CSV = """item_id,title,price
i1,Shoe,10.5
i2,Hat,-3
i3,Bag,
"""


@pytest.fixture
def broken(tmp_path: Path) -> tuple[Path, Path]:
    events = tmp_path / "events.csv"
    events.write_text(EVENTS_CSV)
    items = tmp_path / "items.csv"
    items.write_text(ITEMS_CSV)
    return events, items


def _where(errors: tuple[RowError, ...]) -> list[tuple[str, int, str, str]]:
    return [(e.file, e.line, e.column, e.kind) for e in errors]


def test_strict_mode_reports_exactly_the_five_broken_rows(broken: tuple[Path, Path]) -> None:
    events, items = broken
    with pytest.raises(DataValidationError) as event_error:
        read_events(events)
    with pytest.raises(DataValidationError) as item_error:
        read_items(items)
    assert _where(event_error.value.errors) + _where(item_error.value.errors) == [
        ("events.csv", 4, "value", "bad_type"),
        ("events.csv", 5, "user_id", "missing_value"),
        ("events.csv", 6, "ts", "bad_timestamp"),
        ("events.csv", 7, "event", "unknown_event"),
        ("items.csv", 3, "price", "negative_price"),
    ]
    message = str(event_error.value)
    assert "events.csv:6: column 'ts': cannot parse '2021-13-45' as a timestamp" in message
    assert "events.csv:7: column 'event': unknown event type 'teleport'" in message
    assert "events.csv:4: column 'value': cannot parse 'abc' as a number" in message
    assert "items.csv:3: column 'price': negative price -3.0" in str(item_error.value)
    assert event_error.value.report.rows_read == 7 and event_error.value.report.rows_kept == 3


def test_skip_mode_keeps_exactly_the_valid_rows(
    broken: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    events_path, items_path = broken
    with caplog.at_level(logging.WARNING):
        events, report = read_events(events_path, mode="skip")
    assert events["item_id"].to_list() == ["i1", "i2", "i7"]
    assert events["event"].to_list() == ["view", "purchase", "favourite"]
    assert events["value"].to_list() == [None, 19.99, 1.0]
    assert events["ts"].to_list() == [
        datetime(2021, 1, 1, 10, tzinfo=UTC),
        datetime(2021, 1, 1, 10, tzinfo=UTC),
        datetime(2021, 1, 4, 6, tzinfo=UTC),
    ]
    assert report.by_kind == {"bad_type": 1, "missing_value": 1, "bad_timestamp": 1, "unknown_event": 1}
    assert (report.rows_read, report.rows_kept, report.rows_dropped) == (7, 3, 4)
    assert "dropped 4 of 7 rows" in caplog.text
    items, item_report = read_items(items_path, mode="skip")
    assert items["item_id"].to_list() == ["i1", "i3"]
    assert items["price"].to_list() == [10.5, None]
    assert item_report.by_kind == {"negative_price": 1}


def test_row_error_str() -> None:
    error = RowError("events.csv", 7, "ts", "cannot parse '2021-13-45' as a timestamp")
    assert str(error) == "events.csv:7: column 'ts': cannot parse '2021-13-45' as a timestamp"
    whole_row = RowError("x.csv", 3, "", "expected 5 fields, found 4")
    assert str(whole_row) == "x.csv:3: expected 5 fields, found 4"


def test_error_message_is_capped_but_report_keeps_everything(tmp_path: Path) -> None:
    path = tmp_path / "many.csv"
    path.write_text("user_id,item_id,ts,event\n" + "".join(f"u{i},i{i},never,view\n" for i in range(60)))
    with pytest.raises(DataValidationError) as error:
        read_events(path)
    assert len(error.value.errors) == 60
    message = str(error.value)
    assert "many.csv:51:" in message and "many.csv:52:" not in message
    assert "... and 10 more" in message


def test_ragged_csv_lines_are_reported_with_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text(
        "user_id,item_id,ts,event\nu1,i1,1,view\nu2,i2,2\nu3,i3,3,view,extra,more\n\nu4,i4,4,view\n"
    )
    with pytest.raises(DataValidationError) as error:
        read_events(path)
    assert [str(e) for e in error.value.errors] == [
        "ragged.csv:3: expected 4 fields, found 3",
        "ragged.csv:4: expected 4 fields, found 6",
    ]
    events, report = read_events(path, mode="skip")
    assert events["user_id"].to_list() == ["u1", "u4"]
    assert report.by_kind == {"malformed_line": 2}


def test_quoted_multiline_fields_keep_physical_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "quoted.csv"
    path.write_text(
        "user_id,item_id,ts,event,text\n"
        'u1,i1,1,review,"great, really\nspans two lines"\n'
        'u2,i2,2,review,"say ""hi"""\n'
        "u3,i3,nope,review,x\n"
    )
    with pytest.raises(DataValidationError) as error:
        read_events(path)
    assert _where(error.value.errors) == [("quoted.csv", 5, "ts", "bad_timestamp")]
    events, _ = read_events(path, mode="skip")
    assert events["text"].to_list() == ["great, really\nspans two lines", 'say "hi"']


def test_stray_quote_is_reported_not_swallowing_the_file(tmp_path: Path) -> None:
    path = tmp_path / "stray.csv"
    path.write_text('item_id,title\ni1,10" disc\ni2,ok\ni3,fine\n')
    raw = read_raw(path)
    assert [str(e) for e in raw.errors] == ["stray.csv:2: malformed quoting (unbalanced or stray '\"')"]
    assert raw.frame["item_id"].to_list() == ["i2", "i3"]
    assert raw.frame["__line"].to_list() == [3, 4]


def test_invalid_json_lines_are_reported_with_line_numbers(tmp_path: Path) -> None:
    lines = [
        f'{{"user_id": "u{i}", "item_id": "i{i}", "ts": {1600000000 + i}, "event": "click"}}'
        for i in range(200)
    ]
    lines[99] = '{"user_id": "u99", "item_id": '  # line 100: truncated record
    lines[149] = '["not", "an", "object"]'  # line 150
    path = tmp_path / "events.jsonl.gz"
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    with pytest.raises(DataValidationError) as error:
        read_events(path)
    assert _where(error.value.errors) == [
        ("events.jsonl.gz", 100, "", "invalid_json"),
        ("events.jsonl.gz", 150, "", "invalid_json"),
    ]
    events, report = read_events(path, mode="skip")
    assert events.height == 198 and report.rows_read == 200


def test_timestamps_in_every_accepted_form() -> None:
    values = pl.Series(
        [
            "2021-01-02",
            "2021-01-02T03:04:05",
            "2021-01-02 03:04:05.5",
            "2021-01-02T03:04:05Z",
            "2021-01-02T05:04:05+02:00",
            "1609556645",
            "1609556645.5",
            " 1609556645 ",
            "junk",
            None,
        ]
    )
    got = parse_timestamps(values).to_list()
    base = datetime(2021, 1, 2, 3, 4, 5, tzinfo=UTC)
    half = base.replace(microsecond=500_000)
    assert got == [datetime(2021, 1, 2, tzinfo=UTC), base, half, base, base, base, half, base, None, None]
    assert parse_timestamps(pl.Series([1609556645000]), "ms").to_list() == [base]
    assert parse_timestamps(pl.Series([1609556645.5])).to_list() == [base.replace(microsecond=500_000)]
    naive = pl.Series([datetime(2021, 1, 2, 3, 4, 5)])
    assert parse_timestamps(naive).dtype == pl.Datetime("us", "UTC")
    assert parse_timestamps(naive).to_list() == [base]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "lenient"}, "mode must be one of ('strict', 'skip'), got 'lenient'"),
        ({"ts_unit": "h"}, "ts_unit must be one of ('s', 'ms', 'us', 'ns'), got 'h'"),
        ({"rating_range": (5.0, 1.0)}, "rating_range must be (low, high) with low <= high, got (5.0, 1.0)"),
        ({"max_shown": 0}, "max_shown must be >= 1, got 0"),
    ],
)
def test_config_rejects_bad_fields(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as error:
        ValidationConfig(**kwargs)  # type: ignore[arg-type]
    assert str(error.value) == message


def test_rating_range_is_checked_only_for_ratings() -> None:
    frame = pl.DataFrame(
        {
            "user_id": ["u", "u", "u"],
            "item_id": ["a", "b", "c"],
            "ts": ["1", "2", "3"],
            "event": ["rating", "rating", "purchase"],
            "value": ["4", "7", "70"],
        }
    )
    with pytest.raises(DataValidationError) as error:
        validate_events(frame, file="r.csv", config=ValidationConfig(rating_range=(1, 5)))
    assert [str(e) for e in error.value.errors] == ["r.csv:2: column 'value': rating 7 outside [1, 5]"]


def test_missing_column_and_event_are_configuration_errors() -> None:
    frame = pl.DataFrame({"user_id": ["u"], "item_id": ["i"]})
    with pytest.raises(ValueError, match=r"no column \['ts'\]"):
        validate_events(frame, file="x.csv")
    with pytest.raises(ValueError, match="event_default"):
        validate_events(frame.with_columns(ts=pl.lit("1")), file="x.csv")


def test_check_numeric_removes_rows_before_derivation() -> None:
    frame = pl.DataFrame({"days": ["1", " 2 ", "x", None]})
    kept, errors = check_numeric(frame, ["days"], file="o.csv")
    assert kept["days"].to_list() == [1.0, 2.0, None]
    assert [str(e) for e in errors] == ["o.csv:3: column 'days': cannot parse 'x' as a number"]


def test_duplicate_items_are_errors(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text("item_id,price\na,1\nb,2\na,3\n")
    with pytest.raises(DataValidationError) as error:
        read_items(path)
    assert [str(e) for e in error.value.errors] == [
        "items.csv:4: column 'item_id': duplicate item_id 'a' (first on line 2)"
    ]
    items, _ = read_items(path, mode="skip")
    assert items["price"].to_list() == [1.0, 2.0]


def test_json_record_that_does_not_fit_the_schema_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "meta.jsonl"
    path.write_text(
        '{"asin": "a", "category": ["x"]}\n{"asin": "b", "category": "oops"}\n'
        '{"asin": "c", "category": ["y", "z"]}\n'
    )
    raw = read_raw(path, json_schema={"asin": pl.String(), "category": pl.List(pl.String())})
    assert [(e.line, e.kind) for e in raw.errors] == [(2, "invalid_json")]
    assert raw.frame["asin"].to_list() == ["a", "c"]


def test_crlf_bom_and_bad_utf8(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "win.csv"
    path.write_bytes(
        b"\xef\xbb\xbfuser_id,item_id,ts,event,text\r\nu1,i1,1,view,caf\xe9\r\nu2,i2,2,view,ok\r\n"
    )
    with caplog.at_level(logging.WARNING):
        events, report = read_events(path)
    assert "not valid UTF-8" in caplog.text
    assert events["user_id"].to_list() == ["u1", "u2"] and report.ok
    assert events["text"].to_list() == ["caf\ufffd", "ok"]


def test_a_million_rows_validate_in_seconds(tmp_path: Path) -> None:
    n = 1_000_000
    row = pl.int_range(n, eager=True)
    frame = pl.DataFrame(
        {
            "user_id": row % 5000,
            "item_id": row % 777,
            "ts": row + 1_600_000_000,
            "event": pl.Series(["pv", "buy"] * (n // 2)),
        }
    )
    path = tmp_path / "big.csv"
    frame.write_csv(path)
    started = time.perf_counter()
    events, report = read_events(path)
    assert events.height == n and report.ok
    assert time.perf_counter() - started < 10

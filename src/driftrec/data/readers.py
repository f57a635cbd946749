"""Generic readers: CSV/TSV, JSON lines and Parquet (optionally gzipped) into canonical frames.

Every reader keeps the physical line of each row so that validation can name it, and reports lines it
cannot parse (wrong field count, broken quoting, invalid JSON) instead of crashing on them. The line
scan runs in Polars: a file is first read as one string column of physical lines, CSV records are
re-assembled from quote parity (RFC 4180 multi-line fields), field counts are checked, and only the
good records are handed to Polars' CSV parser.
"""

from __future__ import annotations

import gzip
import io
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal, get_args

import polars as pl

from driftrec.data.schema import EVENTS_SCHEMA, ITEMS_SCHEMA
from driftrec.data.validation import (
    LINE_COLUMN,
    Mode,
    RowError,
    TsUnit,
    ValidationConfig,
    ValidationReport,
    validate_events,
    validate_items,
)

__all__ = [
    "EPOCH",
    "Format",
    "RawTable",
    "apply_mapping",
    "dataset_meta",
    "infer_extra_types",
    "infer_format",
    "order_timestamps",
    "read_bytes",
    "read_events",
    "read_items",
    "read_lines",
    "read_raw",
    "resolve_file",
    "sort_events",
]

logger = logging.getLogger(__name__)

Format = Literal["csv", "tsv", "jsonl", "parquet"]

_SUFFIX_FORMAT: Final[dict[str, Format]] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".inter": "tsv",  # RecBole atomic files
    ".item": "tsv",
    ".user": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
#: Control characters used as the "separator" when reading whole lines; one absent from the data is used.
_LINE_SEPARATORS: Final = ("\x1f", "\x1e", "\x1d", "\x1c", "\x01")
_BISECT_MIN: Final = 64
#: Origin of synthetic timestamps for order-only data.
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class RawTable:
    """A file as read, before mapping and validation.

    ``frame`` has the file's own column names (all strings for CSV/TSV) plus ``__line``; ``errors``
    are the structural problems (malformed lines, invalid JSON) of rows that are not in ``frame``.
    """

    file: str
    frame: pl.DataFrame
    errors: tuple[RowError, ...] = ()

    @property
    def rows_read(self) -> int:
        return self.frame.height + len(self.errors)


def infer_format(path: str | Path) -> Format:
    """Format from the file name (``.gz`` ignored; ``x.parquet.brotli`` is Parquet)."""
    name = Path(path).name.lower().removesuffix(".gz")
    if ".parquet" in name:
        return "parquet"
    suffix = Path(name).suffix
    if suffix in _SUFFIX_FORMAT:
        return _SUFFIX_FORMAT[suffix]
    name = Path(path).name
    raise ValueError(f"cannot infer the format of {name!r}; pass format= one of {get_args(Format)}")


def read_bytes(path: str | Path) -> bytes:
    """File content, gunzipped when the name ends in ``.gz``."""
    source = Path(path)
    if not source.exists():
        raise FileNotFoundError(f"no such file: {source}")
    data = source.read_bytes()
    return gzip.decompress(data) if source.name.lower().endswith(".gz") else data


def read_lines(data: bytes) -> pl.DataFrame:
    """Physical lines of ``data`` as ``(__line, raw)``; blank lines are kept (``raw`` empty).

    Polars reads the bytes as a single string column, with a control character absent from the data as
    separator and quoting off, which is an order of magnitude faster than splitting in Python.
    """
    empty = pl.DataFrame(schema={LINE_COLUMN: pl.Int64, "raw": pl.String})
    if not data:
        return empty
    separator = next((c for c in _LINE_SEPARATORS if c.encode() not in data), None)
    if separator is None:
        raise ValueError("data contains every control character tried as a line separator; is it binary?")
    options: dict[str, Any] = {
        "has_header": False,
        "separator": separator,
        "quote_char": None,
        "infer_schema": False,
        "new_columns": ["raw"],
    }
    try:
        lines = pl.read_csv(data, encoding="utf8", **options)
    except pl.exceptions.ComputeError:
        logger.warning("data is not valid UTF-8; undecodable bytes are replaced by U+FFFD")
        lines = pl.read_csv(data, encoding="utf8-lossy", **options)
    return lines.select(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias(LINE_COLUMN),
        pl.col("raw").fill_null("").str.strip_prefix("\ufeff"),
    )


def _hex(char: str) -> str:
    return "".join(f"\\x{{{ord(c):x}}}" for c in char)


def _single(lines: pl.DataFrame) -> pl.DataFrame:
    return lines.with_columns(pl.lit(1, pl.Int64).alias("__span"))


def _group_records(lines: pl.DataFrame, quote: str) -> pl.DataFrame:
    """Join physical lines into CSV records: a record goes on while a quoted field is open."""
    counts = lines["raw"].str.count_matches(quote, literal=True)
    if not (counts % 2 == 1).any():
        return _single(lines)
    open_after = (counts.cum_sum() % 2) == 1
    record = (~open_after.shift(1, fill_value=False)).cum_sum()
    return (
        lines.with_columns(record.alias("__record"))
        .group_by("__record", maintain_order=True)
        .agg(
            pl.col(LINE_COLUMN).first(), pl.col("raw").str.join("\n"), pl.len().cast(pl.Int64).alias("__span")
        )
        .drop("__record")
    )


def _check_records(records: pl.DataFrame, separator: str, quote: str | None, expected: int) -> pl.DataFrame:
    """Add ``__fields`` (field count) and ``__clean`` (quoting is RFC 4180) to each record."""
    if quote is None:
        return records.with_columns(
            (pl.col("raw").str.count_matches(separator, literal=True) + 1).alias("__fields"),
            pl.lit(True).alias("__clean"),
        )
    q, s = _hex(quote), _hex(separator)
    field = f"(?:{q}(?:[^{q}]|{q}{q})*{q}|[^{s}{q}\\n]*)"
    return records.with_columns(
        (
            pl.col("raw").str.replace_all(f"{q}[^{q}]*{q}", "").str.count_matches(separator, literal=True) + 1
        ).alias("__fields"),
        pl.col("raw").str.contains(f"^{field}(?:{s}{field})*$").alias("__clean"),
    ).with_columns(pl.col("__fields").fill_null(expected + 1), pl.col("__clean").fill_null(False))


def _header_names(record: str, separator: str, quote: str | None) -> list[str]:
    row = pl.read_csv(
        record.encode(), has_header=False, separator=separator, quote_char=quote, infer_schema=False
    ).row(0)
    names: list[str] = []
    for i, value in enumerate(row):
        name = (value or "").strip() or f"column_{i + 1}"
        names.append(name if name not in names else f"{name}_{i + 1}")
    return names


def _column_names(
    records: pl.DataFrame,
    file: str,
    separator: str,
    quote: str | None,
    has_header: bool,
    columns: Sequence[str] | None,
) -> tuple[list[str], pl.DataFrame]:
    """Column names (header, ``columns=`` or ``column_<i>`` by the most common width) and the body."""
    names: list[str] = []
    if has_header:
        if records.height == 0:
            raise ValueError(f"{file}: the file is empty; expected a header line")
        names = _header_names(records["raw"][0], separator, quote)
        records = records.slice(1)
    if columns is not None:
        if names and len(columns) != len(names):
            raise ValueError(f"{file}: columns= names {len(columns)} columns but the header has {len(names)}")
        names = list(columns)
    if not names:
        counts = records["raw"].str.count_matches(separator, literal=True) + 1
        width = int(counts.mode().max() or 1) if records.height else 1  # type: ignore[arg-type]
        names = [f"column_{i + 1}" for i in range(width)]
    return names, records


def _judge(
    records: pl.DataFrame, lines: pl.DataFrame, file: str, separator: str, quote: str | None, expected: int
) -> tuple[pl.DataFrame, tuple[RowError, ...]]:
    """Split records into good ones and ``malformed_line`` errors (wrong field count, broken quoting)."""
    checked = _check_records(records, separator, quote, expected)
    good = (pl.col("__fields") == expected) & pl.col("__clean")
    # A multi-line record that fails was most likely opened by a stray quote: judge its lines one by one.
    retry = checked.filter(~good & (pl.col("__span") > 1))
    if retry.height:
        spans = retry.select(
            pl.int_ranges(LINE_COLUMN, pl.col(LINE_COLUMN) + pl.col("__span")).explode().alias(LINE_COLUMN)
        )
        single = lines.join(spans, on=LINE_COLUMN, how="semi").filter(pl.col("raw").str.strip_chars() != "")
        checked = pl.concat(
            [
                checked.filter(good | (pl.col("__span") == 1)),
                _check_records(_single(single), separator, quote, expected),
            ]
        ).sort(LINE_COLUMN)
    bad = checked.filter(~good).select(LINE_COLUMN, "__fields", "__clean")
    errors = tuple(
        RowError(
            file,
            line,
            "",
            f"expected {expected} fields, found {fields}"
            if clean
            else f"malformed quoting (unbalanced or stray {quote!r})",
            "malformed_line",
        )
        for line, fields, clean in bad.iter_rows()
    )
    return checked.filter(good), errors


def _parse_csv(
    data: bytes,
    file: str,
    *,
    separator: str,
    quote: str | None,
    has_header: bool,
    columns: Sequence[str] | None,
) -> RawTable:
    lines = read_lines(data)
    if quote is not None and quote.encode() not in data:
        quote = None
    records = _group_records(lines, quote) if quote else _single(lines)
    records = records.filter(pl.col("raw").str.strip_chars() != "")
    names, records = _column_names(records, file, separator, quote, has_header, columns)
    kept, errors = _judge(records, lines, file, separator, quote, len(names))
    options: dict[str, Any] = {
        "separator": separator,
        "quote_char": quote,
        "infer_schema": False,
        "new_columns": names,
        "encoding": "utf8-lossy",
    }
    frame = None
    if kept.height and kept.height == lines.height - has_header:
        # Every physical line is a good record: parse the bytes as they are, no re-joining needed.
        frame = pl.read_csv(data, has_header=has_header, **options)
        frame = frame if frame.height == kept.height else None
    if frame is None and kept.height:
        body = kept["raw"].str.join("\n").item().encode()
        frame = pl.read_csv(body, has_header=False, **options)
        if frame.height != kept.height:
            raise ValueError(f"{file}: parsed {frame.height} rows from {kept.height} checked records")
    if frame is None:
        frame = pl.DataFrame(schema=dict.fromkeys(names, pl.String))
    return RawTable(file, frame.with_columns(kept[LINE_COLUMN]), errors)


def _ndjson(records: pl.DataFrame, schema: Mapping[str, pl.DataType] | None) -> pl.DataFrame:
    body = records["raw"].str.join("\n").item().encode()
    return pl.read_ndjson(io.BytesIO(body), schema=schema, infer_schema_length=None)


def _bad_json(records: pl.DataFrame, schema: Mapping[str, pl.DataType] | None) -> list[tuple[int, str]]:
    """Locate unparseable lines by bisection, so only small chunks are ever checked line by line."""
    if records.height > _BISECT_MIN:
        try:
            _ndjson(records, schema)
            return []
        except pl.exceptions.PolarsError:
            half = records.height // 2
            return _bad_json(records.slice(0, half), schema) + _bad_json(records.slice(half), schema)
    found = []
    for line, text in records.select(LINE_COLUMN, "raw").iter_rows():
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            found.append((line, f"invalid JSON: {exc.msg} (char {exc.colno})"))
            continue
        if not isinstance(value, dict):
            found.append((line, "invalid JSON: expected one object per line"))
            continue
        try:  # valid JSON that still does not fit the schema (e.g. a string where a list is expected)
            _ndjson(records.filter(pl.col(LINE_COLUMN) == line), schema)
        except pl.exceptions.PolarsError as exc:
            found.append((line, f"record does not fit the expected fields: {str(exc).splitlines()[0]}"))
    return found


def _parse_jsonl(data: bytes, file: str, schema: Mapping[str, pl.DataType] | None) -> RawTable:
    records = read_lines(data).filter(pl.col("raw").str.strip_chars() != "")
    if records.height == 0:
        return RawTable(file, pl.DataFrame(schema={**(schema or {}), LINE_COLUMN: pl.Int64}))
    errors: tuple[RowError, ...] = ()
    try:
        frame = _ndjson(records, schema)
    except pl.exceptions.PolarsError as exc:
        bad = _bad_json(records, schema)
        if not bad:
            raise ValueError(f"{file}: JSON lines could not be read: {exc}") from exc
        errors = tuple(RowError(file, line, "", message, "invalid_json") for line, message in bad)
        records = records.join(
            pl.DataFrame({LINE_COLUMN: [line for line, _ in bad]}),
            on=LINE_COLUMN,
            how="anti",
            maintain_order="left",
        )
        try:
            frame = _ndjson(records, schema)
        except pl.exceptions.PolarsError as again:
            raise ValueError(
                f"{file}: JSON lines could not be read even without the {len(bad)} bad line(s): {again}"
            ) from again
    return RawTable(file, frame.with_columns(records[LINE_COLUMN]), errors)


def read_raw(
    path: str | Path,
    *,
    format: Format | None = None,
    delimiter: str | None = None,
    has_header: bool = True,
    columns: Sequence[str] | None = None,
    quote_char: str | None = '"',
    json_schema: Mapping[str, pl.DataType] | None = None,
) -> RawTable:
    """Read a file as it is, with line numbers and structural errors.

    ``delimiter`` defaults to ``","`` for CSV and a tab for TSV; ``columns`` names the columns of a file
    without header (or renames a header's). ``json_schema`` restricts JSON lines to the named fields,
    which avoids inferring types of nested fields nobody uses.
    """
    source = Path(path)
    fmt = format or infer_format(source)
    if fmt not in get_args(Format):
        raise ValueError(f"format must be one of {get_args(Format)}, got {fmt!r}")
    if fmt == "parquet":
        if not source.exists():
            raise FileNotFoundError(f"no such file: {source}")
        frame = pl.read_parquet(source)
        if columns is not None:
            frame = frame.rename(dict(zip(frame.columns, columns, strict=False)))
        return RawTable(
            source.name,
            frame.with_row_index(LINE_COLUMN, offset=1).with_columns(pl.col(LINE_COLUMN).cast(pl.Int64)),
        )
    data = read_bytes(source)
    if fmt == "jsonl":
        return _parse_jsonl(data, source.name, json_schema)
    separator = delimiter or ("\t" if fmt == "tsv" else ",")
    return _parse_csv(
        data, source.name, separator=separator, quote=quote_char, has_header=has_header, columns=columns
    )


def apply_mapping(frame: pl.DataFrame, mapping: Mapping[str, str] | None, *, file: str) -> pl.DataFrame:
    """Rename source columns to canonical ones (``mapping`` is canonical -> source); others are kept.

    One source may feed several canonical columns (e.g. a session id used as user and session).
    """
    if not mapping:
        return frame
    absent = {k: v for k, v in mapping.items() if v not in frame.columns}
    if absent:
        raise ValueError(
            f"{file}: mapping names columns absent from the file {absent}; columns are {frame.columns}"
        )
    sources = set(mapping.values())
    keep = [c for c in frame.columns if c not in sources and c not in mapping]
    return frame.select(*(pl.col(src).alias(canon) for canon, src in mapping.items()), *keep)


def infer_extra_types(frame: pl.DataFrame, canonical: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """Give string extra columns a numeric type when every value converts without loss.

    Integers must round-trip exactly (so ``"0123"`` stays text); the line column is left alone.
    """
    exprs = []
    for name, dtype in frame.schema.items():
        if name in canonical or name == LINE_COLUMN or dtype != pl.String:
            continue
        col = frame[name].drop_nulls()
        if col.len() == 0:
            continue
        as_int = col.cast(pl.Int64, strict=False)
        if as_int.null_count() == 0 and (as_int.cast(pl.String) == col).all():
            exprs.append(pl.col(name).cast(pl.Int64))
            continue
        as_float = col.cast(pl.Float64, strict=False)
        if as_float.null_count() == 0 and not col.str.contains(r"^[+-]?0\d").any():
            exprs.append(pl.col(name).cast(pl.Float64))
    return frame.with_columns(exprs) if exprs else frame


def read_events(
    path: str | Path,
    *,
    mapping: Mapping[str, str] | None = None,
    format: Format | None = None,
    mode: Mode = "strict",
    ts_unit: TsUnit = "s",
    delimiter: str | None = None,
    has_header: bool = True,
    event_default: str | None = None,
    columns: Sequence[str] | None = None,
    rating_range: tuple[float, float] | None = None,
) -> tuple[pl.DataFrame, ValidationReport]:
    """Read an event log from CSV/TSV/JSONL/Parquet (``.gz`` ok) into canonical, validated events.

    ``mapping`` maps canonical names to the file's (``{"user_id": "visitorid", "ts": "timestamp"}``);
    ``event_default`` names the behaviour when the file has no event column (or leaves it blank).
    Rows keep file order; extra columns are kept (numeric when lossless).
    """
    config = ValidationConfig(mode=mode, ts_unit=ts_unit, rating_range=rating_range)
    raw = read_raw(path, format=format, delimiter=delimiter, has_header=has_header, columns=columns)
    frame = infer_extra_types(apply_mapping(raw.frame, mapping, file=raw.file), EVENTS_SCHEMA)
    return validate_events(
        frame, file=raw.file, config=config, structural=raw.errors, event_default=event_default
    )


def read_items(
    path: str | Path,
    *,
    mapping: Mapping[str, str] | None = None,
    format: Format | None = None,
    mode: Mode = "strict",
    delimiter: str | None = None,
    has_header: bool = True,
    columns: Sequence[str] | None = None,
) -> tuple[pl.DataFrame, ValidationReport]:
    """Read a catalogue into canonical, validated items (negative prices and duplicate ids are errors)."""
    config = ValidationConfig(mode=mode)
    raw = read_raw(path, format=format, delimiter=delimiter, has_header=has_header, columns=columns)
    frame = infer_extra_types(apply_mapping(raw.frame, mapping, file=raw.file), ITEMS_SCHEMA)
    return validate_items(frame, file=raw.file, config=config, structural=raw.errors)


def resolve_file(path: str | Path) -> Path:
    """``path`` or ``path.gz``, whichever exists; datasets ship some files gzipped and some not."""
    plain = Path(path)
    for candidate in (plain, plain.with_name(plain.name + ".gz")):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"neither {plain} nor {plain.name}.gz exists in {plain.parent}")


def order_timestamps(frame: pl.DataFrame, by: str | None = "user_id") -> pl.Series:
    """Synthetic ``ts`` for order-only data: epoch + position (in frame order) seconds within ``by``.

    Strictly increasing per user, so sorting by ``(user_id, ts)`` reproduces the file's order; with
    ``by=None`` the position is global (file order).
    """
    position = pl.int_range(pl.len(), dtype=pl.Int64)
    if by is not None:
        position = position.over(by)
    seconds = frame.select(position.alias("ts")).to_series()
    return (seconds * 1_000_000).cast(pl.Datetime("us")).dt.replace_time_zone("UTC").alias("ts")


def sort_events(events: pl.DataFrame) -> pl.DataFrame:
    """Order by user then time; stable, so ties keep file order."""
    return events.sort("user_id", "ts", maintain_order=True)


def dataset_meta(
    source: str | Path, time_resolution: str, *reports: ValidationReport, **notes: Any
) -> dict[str, Any]:
    """The ``meta`` every format reader fills: source, time resolution, validation digests, notes."""
    return {
        "source": str(source),
        "time_resolution": time_resolution,
        "validation": [r.summary() for r in reports],
        **notes,
    }

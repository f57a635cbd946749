"""Row validation with precise, line-numbered errors.

Public logs are dirty; a reader that crashes on row 3,000,001 or silently drops rows makes every later
number untrustworthy. Checks here are Polars expressions over whole columns (no Python loop per row), so
ten million rows validate in seconds, and every rejected row is named by file, physical line and column.

Input frames carry a ``__line`` column (1-based physical line of the row in its file: the CSV header is
line 1, the first JSONL record is line 1; for Parquet it is the 1-based row number). Readers add it.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

import polars as pl

from driftrec.data.schema import (
    CATEGORY_SEPARATOR,
    EVENT_ALIASES,
    EVENT_CODE,
    EVENTS_SCHEMA,
    ITEMS_SCHEMA,
    TIMESTAMP,
    canonical_event,
    conform,
)

__all__ = [
    "LINE_COLUMN",
    "DataValidationError",
    "Mode",
    "RowError",
    "TsUnit",
    "ValidationConfig",
    "ValidationReport",
    "check_numeric",
    "enforce_mode",
    "parse_timestamps",
    "validate_events",
    "validate_items",
]

logger = logging.getLogger(__name__)

Mode = Literal["strict", "skip"]
TsUnit = Literal["s", "ms", "us", "ns"]

#: Name of the physical-line column readers attach to raw frames.
LINE_COLUMN: Final = "__line"

_MICROS_PER: Final[dict[str, int]] = {"s": 1_000_000, "ms": 1_000, "us": 1}
_ISO_FORMATS: Final[tuple[str, ...]] = (
    "%Y-%m-%dT%H:%M:%S%.f%#z",
    "%Y-%m-%d %H:%M:%S%.f%#z",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)
_SHOWN_CHARS: Final = 60
#: Every raw label canonical_event understands, so event mapping is one vectorised replace.
_EVENT_LOOKUP: Final[dict[str, str]] = {
    name: canon for name in (*EVENT_CODE, *EVENT_ALIASES) if (canon := canonical_event(name)) is not None
}


@dataclass(frozen=True)
class RowError:
    """One problem in one row; ``kind`` groups errors for :attr:`ValidationReport.by_kind`."""

    file: str
    line: int
    column: str
    message: str
    kind: str = "invalid"

    def __str__(self) -> str:
        where = f"column '{self.column}': " if self.column else ""
        return f"{self.file}:{self.line}: {where}{self.message}"


@dataclass(frozen=True)
class ValidationReport:
    """What a read saw: rows read, rows kept, and every error (sorted by line)."""

    file: str
    rows_read: int
    rows_kept: int
    errors: tuple[RowError, ...] = ()

    @property
    def rows_dropped(self) -> int:
        return self.rows_read - self.rows_kept

    @property
    def by_kind(self) -> dict[str, int]:
        return dict(Counter(e.kind for e in self.errors))

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> dict[str, Any]:
        """A JSON-friendly digest, stored in ``Dataset.meta["validation"]``."""
        return {
            "file": self.file,
            "rows_read": self.rows_read,
            "rows_kept": self.rows_kept,
            "by_kind": self.by_kind,
        }

    def describe(self, max_shown: int = 50) -> str:
        """Human-readable list of errors, capped at ``max_shown`` lines."""
        head = (
            f"{self.file}: {len(self.errors)} error(s) in {self.rows_dropped} of {self.rows_read} rows "
            f"({', '.join(f'{k}: {n}' for k, n in sorted(self.by_kind.items()))})"
        )
        lines = [head, *(f"  {e}" for e in self.errors[:max_shown])]
        if len(self.errors) > max_shown:
            lines.append(f"  ... and {len(self.errors) - max_shown} more")
        return "\n".join(lines)


class DataValidationError(ValueError):
    """Raised in strict mode after *all* errors were collected; carries the full report."""

    def __init__(self, report: ValidationReport, max_shown: int = 50) -> None:
        super().__init__(report.describe(max_shown))
        self.report = report

    @property
    def errors(self) -> tuple[RowError, ...]:
        return self.report.errors


@dataclass(frozen=True)
class ValidationConfig:
    """How strict a read is and how raw values are interpreted.

    ``mode="strict"`` raises :class:`DataValidationError` listing every error; ``"skip"`` drops bad rows,
    keeps all valid ones and logs a warning. ``ts_unit`` is the unit of numeric epoch timestamps.
    ``rating_range`` (inclusive) bounds ``value`` of ``rating`` events when given.
    """

    mode: Mode = "strict"
    ts_unit: TsUnit = "s"
    rating_range: tuple[float, float] | None = None
    max_shown: int = 50

    def __post_init__(self) -> None:
        if self.mode not in get_args(Mode):
            raise ValueError(f"mode must be one of {get_args(Mode)}, got {self.mode!r}")
        if self.ts_unit not in get_args(TsUnit):
            raise ValueError(f"ts_unit must be one of {get_args(TsUnit)}, got {self.ts_unit!r}")
        if self.rating_range is not None:
            low, high = self.rating_range
            if not low <= high:
                raise ValueError(f"rating_range must be (low, high) with low <= high, got {low, high}")
        if self.max_shown < 1:
            raise ValueError(f"max_shown must be >= 1, got {self.max_shown}")


def _epoch(values: pl.Series, ts_unit: TsUnit) -> pl.Series:
    """Epoch numbers (int or float) in ``ts_unit`` -> UTC microsecond datetimes (null on overflow)."""
    if values.dtype.is_integer():
        if ts_unit != "ns":  # integer multiplication wraps silently: out-of-range epochs become null first
            limit = (2**63 - 1) // _MICROS_PER[ts_unit]
            in_range = pl.when(pl.col("v").abs() <= limit).then(pl.col("v"))
            values = values.to_frame("v").select(in_range).to_series()
        micros = values // 1_000 if ts_unit == "ns" else values * _MICROS_PER[ts_unit]
    else:
        scaled = values / 1_000 if ts_unit == "ns" else values * _MICROS_PER[ts_unit]
        micros = scaled.round(0)
    return micros.cast(pl.Int64, strict=False).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")


def _iso(fmt: str) -> Callable[[pl.Series], pl.Series]:
    return lambda s: s.str.to_datetime(format=fmt, strict=False, time_unit="us", time_zone="UTC")


def _sniff(text: pl.Series, sample: int = 200) -> list[str]:
    """ISO layouts ordered by how many of the first ``sample`` values they parse (best first)."""
    head = text.head(sample)
    hits = {f: _iso(f)(head).is_not_null().sum() for f in _ISO_FORMATS}
    return sorted(_ISO_FORMATS, key=lambda f: -hits[f])


def _parse_ts(values: pl.Series, ts_unit: TsUnit) -> tuple[pl.Series, pl.Series]:
    """Parsed timestamps and a 'value was given' mask (null/blank = not given)."""
    dtype = values.dtype
    if isinstance(dtype, pl.Datetime):
        aware = values.dt.convert_time_zone("UTC") if dtype.time_zone else values.dt.replace_time_zone("UTC")
        return aware.cast(TIMESTAMP), values.is_not_null()
    if isinstance(dtype, pl.Date):
        return values.cast(pl.Datetime("us")).dt.replace_time_zone("UTC"), values.is_not_null()
    if dtype.is_numeric():
        return _epoch(values, ts_unit), values.is_not_null()
    text = values.cast(pl.String)
    out = _epoch(text.cast(pl.Int64, strict=False), ts_unit)
    given = text.is_not_null()
    idx = (out.is_null() & given).arg_true()
    if idx.len() == 0:
        return out, given
    # Only rows the fast integer path missed are stripped and tried against the slower parsers, each
    # parser seeing only what the previous ones left, so a clean column costs one cast.
    rest = text.gather(idx).str.strip_chars()
    blank = rest == ""
    given = given.scatter(idx.filter(blank), False)
    idx, rest = idx.filter(~blank), rest.filter(~blank)
    parsers = [lambda s: _epoch(s.cast(pl.Float64, strict=False), ts_unit), *map(_iso, _sniff(rest))]
    for parse in parsers:
        if idx.len() == 0:
            break
        got = parse(rest)
        ok = got.is_not_null()
        out = out.scatter(idx.filter(ok), got.filter(ok))
        idx, rest = idx.filter(~ok), rest.filter(~ok)
    return out, given


def parse_timestamps(values: pl.Series, ts_unit: TsUnit = "s") -> pl.Series:
    """ISO strings, dates, datetimes or epoch numbers -> ``Datetime("us", "UTC")``; null if unparseable.

    Strings that look numeric are epochs in ``ts_unit``; others are tried against ISO 8601 layouts (with
    or without ``T``, fraction and offset, or a bare date); naive times are taken as UTC.
    """
    return _parse_ts(values, ts_unit)[0].alias(values.name)


def _parse_numbers(values: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Float64 values and a 'value was given' mask; text is stripped only where a plain cast fails."""
    if values.dtype.is_numeric() or values.dtype == pl.Boolean:
        return values.cast(pl.Float64), values.is_not_null()
    if values.dtype == pl.Null:
        return values.cast(pl.Float64), values.is_not_null()
    text = values.cast(pl.String)
    out, given = text.cast(pl.Float64, strict=False), text.is_not_null()
    idx = (out.is_null() & given).arg_true()
    if idx.len():
        rest = text.gather(idx).str.strip_chars()
        blank = rest == ""
        given = given.scatter(idx.filter(blank), False)
        out = out.scatter(idx.filter(~blank), rest.filter(~blank).cast(pl.Float64, strict=False))
    return out, given


def _canonical_events(values: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Canonical event names (null if unknown) and a 'given' mask, computed on distinct labels only."""
    text = values.cast(pl.String).fill_null("")
    labels = text.unique()
    stripped = labels.str.strip_chars()
    canon = stripped.str.to_lowercase().replace_strict(_EVENT_LOOKUP, default=None, return_dtype=pl.String)
    return (
        text.replace_strict(labels, canon, default=None, return_dtype=pl.String),
        text.replace_strict(labels, stripped != "", default=False, return_dtype=pl.Boolean),
    )


def _ids(frame: pl.DataFrame, column: str) -> pl.Series:
    dtype = frame.schema[column]
    if isinstance(dtype, pl.List | pl.Struct | pl.Array):
        raise ValueError(f"column {column!r} holds {dtype} values; an id must be a scalar")
    ids = pl.col(column).cast(pl.String).str.strip_chars()
    return frame.select(pl.when(ids != "").then(ids).alias(column)).to_series()


@dataclass(frozen=True)
class _Check:
    """A vectorised rule: rows where ``failed`` holds get ``message`` under ``column``/``kind``."""

    column: str
    kind: str
    failed: pl.Expr
    message: pl.Expr


def _shown(column: str) -> pl.Expr:
    text = pl.col(column).cast(pl.String)
    return (
        pl.when(text.str.len_chars() > _SHOWN_CHARS)
        .then(text.str.slice(0, _SHOWN_CHARS - 3) + pl.lit("..."))
        .otherwise(text)
    )


def _missing(column: str, given: str) -> _Check:
    return _Check(column, "missing_value", ~pl.col(given), pl.lit("missing value"))


def _unparseable(column: str, parsed: str, given: str, what: str, kind: str) -> _Check:
    return _Check(
        column,
        kind,
        pl.col(parsed).is_null() & pl.col(given),
        pl.format(f"cannot parse '{{}}' as {what}", _shown(column)),
    )


def _line_numbers(frame: pl.DataFrame) -> pl.DataFrame:
    if LINE_COLUMN in frame.columns:
        return frame.with_columns(pl.col(LINE_COLUMN).cast(pl.Int64))
    return frame.with_row_index(LINE_COLUMN, offset=1).with_columns(pl.col(LINE_COLUMN).cast(pl.Int64))


def _collect_errors(
    frame: pl.DataFrame, checks: Sequence[_Check], file: str
) -> tuple[list[RowError], pl.Series]:
    """Evaluate every check at once; return the errors and a per-row 'bad' mask."""
    if not checks:
        return [], pl.repeat(False, frame.height, dtype=pl.Boolean, eager=True)
    flags = frame.select([c.failed.fill_null(False).alias(f"__f{i}") for i, c in enumerate(checks)])
    bad = flags.select(pl.any_horizontal(pl.all()).alias("bad")).to_series()
    if not bad.any():
        return [], bad
    parts = []
    for i, check in enumerate(checks):
        hits = frame.filter(flags[f"__f{i}"])
        if hits.height:
            parts.append(
                hits.select(
                    pl.col(LINE_COLUMN).alias("line"),
                    pl.lit(i).alias("order"),
                    check.message.fill_null("invalid value").alias("message"),
                )
            )
    table = pl.concat(parts).sort("line", "order")
    errors = [
        RowError(file, line, checks[order].column, message, checks[order].kind)
        for line, order, message in table.iter_rows()
    ]
    return errors, bad


def _keep(frame: pl.DataFrame, bad: pl.Series, typed: dict[str, str]) -> pl.DataFrame:
    """Good rows with parsed columns under their canonical names, then the untouched extras."""
    good = frame.filter(~bad) if bad.any() else frame
    extras = [c for c in frame.columns if c not in typed and c != LINE_COLUMN and not c.startswith("__v_")]
    return good.select(*(pl.col(src).alias(dst) for dst, src in typed.items()), *extras)


def check_numeric(
    frame: pl.DataFrame, columns: Sequence[str], *, file: str
) -> tuple[pl.DataFrame, tuple[RowError, ...]]:
    """Parse source ``columns`` as Float64 before a reader derives values (e.g. a timestamp) from them.

    Rows with non-numeric text are removed and returned as ``bad_type`` errors, to be passed on as
    ``structural`` errors so that a derived value is never blamed for its inputs.
    """
    frame = _line_numbers(frame)
    checks, parsed = [], []
    for column in columns:
        value, given = _parse_numbers(frame[column])
        parsed.append(value.alias(column))
        frame = frame.with_columns(value.alias(f"__p_{column}"), given.alias(f"__g_{column}"))
        checks.append(_unparseable(column, f"__p_{column}", f"__g_{column}", "a number", "bad_type"))
    errors, bad = _collect_errors(frame, checks, file)
    frame = frame.with_columns(parsed).drop([c for c in frame.columns if c.startswith(("__p_", "__g_"))])
    return (frame.filter(~bad) if errors else frame), tuple(errors)


def enforce_mode(report: ValidationReport, config: ValidationConfig) -> None:
    """Raise in strict mode, warn in skip mode; nothing when the report is clean."""
    if report.ok:
        return
    if config.mode == "strict":
        raise DataValidationError(report, config.max_shown)
    logger.warning(
        "%s: dropped %d of %d rows with errors %s (mode='skip')",
        report.file,
        report.rows_dropped,
        report.rows_read,
        report.by_kind,
    )


def _finish(
    kept: pl.DataFrame,
    errors: Iterable[RowError],
    structural: Sequence[RowError],
    file: str,
    rows: int,
    config: ValidationConfig,
) -> ValidationReport:
    all_errors = sorted((*structural, *errors), key=lambda e: e.line)
    report = ValidationReport(file, rows + len(structural), kept.height, tuple(all_errors))
    enforce_mode(report, config)
    return report


def _with_event(frame: pl.DataFrame, file: str, event_default: str | None) -> pl.DataFrame:
    if event_default is not None and canonical_event(event_default) is None:
        raise ValueError(f"event_default {event_default!r} is not a known event type")
    if "event" not in frame.columns:
        if event_default is None:
            raise ValueError(f"{file}: no 'event' column; pass event_default= to name the behaviour")
        return frame.with_columns(pl.lit(event_default).alias("event"))
    if event_default is None:
        return frame
    blank = pl.col("event").is_null() | (pl.col("event").cast(pl.String).str.strip_chars() == "")
    filled = pl.when(blank).then(pl.lit(event_default)).otherwise(pl.col("event"))
    return frame.with_columns(filled.alias("event"))


def validate_events(
    frame: pl.DataFrame,
    *,
    file: str,
    config: ValidationConfig | None = None,
    structural: Sequence[RowError] = (),
    event_default: str | None = None,
) -> tuple[pl.DataFrame, ValidationReport]:
    """Check and type a raw events frame whose columns already carry canonical names.

    ``structural`` are errors found while reading (malformed lines, invalid JSON); they count as read
    rows and are reported together with the row errors. Returns canonical events (extra columns kept
    after the canonical ones) and the report; raises :class:`DataValidationError` in strict mode.
    """
    config = config or ValidationConfig()
    missing = [c for c in ("user_id", "item_id", "ts") if c not in frame.columns]
    if missing:
        raise ValueError(f"{file}: no column {missing} after mapping; columns are {frame.columns}")
    frame = _with_event(_line_numbers(frame), file, event_default)
    ts, ts_given = _parse_ts(frame["ts"], config.ts_unit)
    event, event_given = _canonical_events(frame["event"])
    user, item = _ids(frame, "user_id"), _ids(frame, "item_id")
    frame = frame.with_columns(
        user.alias("__v_user"),
        user.is_not_null().alias("__v_g_user"),
        item.alias("__v_item"),
        item.is_not_null().alias("__v_g_item"),
        ts.alias("__v_ts"),
        ts_given.alias("__v_g_ts"),
        event.alias("__v_event"),
        event_given.alias("__v_g_event"),
    )
    checks = [
        _missing("user_id", "__v_g_user"),
        _missing("item_id", "__v_g_item"),
        _missing("ts", "__v_g_ts"),
        _missing("event", "__v_g_event"),
        _unparseable("ts", "__v_ts", "__v_g_ts", "a timestamp", "bad_timestamp"),
        _Check(
            "event",
            "unknown_event",
            pl.col("__v_event").is_null() & pl.col("__v_g_event"),
            pl.format("unknown event type '{}'", _shown("event")),
        ),
    ]
    typed = {"user_id": "__v_user", "item_id": "__v_item", "ts": "__v_ts", "event": "__v_event"}
    if "value" in frame.columns:
        value, value_given = _parse_numbers(frame["value"])
        frame = frame.with_columns(value.alias("__v_value"), value_given.alias("__v_g_value"))
        checks.append(_unparseable("value", "__v_value", "__v_g_value", "a number", "bad_type"))
        typed["value"] = "__v_value"
        if config.rating_range is not None:
            low, high = config.rating_range
            outside = (pl.col("__v_event") == "rating") & ~pl.col("__v_value").is_between(low, high)
            checks.append(
                _Check(
                    "value",
                    "out_of_range",
                    outside,
                    pl.format(f"rating {{}} outside [{low}, {high}]", _shown("value")),
                )
            )
    for name in ("text", "session_id"):
        if name in frame.columns:
            frame = frame.with_columns(pl.col(name).cast(pl.String).alias(f"__v_{name}"))
            typed[name] = f"__v_{name}"
    errors, bad = _collect_errors(frame, checks, file)
    kept = _keep(frame, bad, typed)
    report = _finish(kept, errors, structural, file, frame.height, config)
    return conform(kept, EVENTS_SCHEMA), report


def _text(frame: pl.DataFrame, column: str, separator: str) -> pl.Expr:
    """A string column; lists (e.g. category paths, description paragraphs) are joined, empty -> null."""
    if isinstance(frame.schema[column], pl.List):
        joined = pl.col(column).cast(pl.List(pl.String)).list.join(separator)
        return pl.when(joined != "").then(joined)
    return pl.col(column).cast(pl.String)


def validate_items(
    frame: pl.DataFrame,
    *,
    file: str,
    config: ValidationConfig | None = None,
    structural: Sequence[RowError] = (),
) -> tuple[pl.DataFrame, ValidationReport]:
    """Check and type a raw catalogue: ids present and unique, prices numeric and not negative.

    A ``category`` given as a list is joined into a path with ``" > "``; list-valued ``title``,
    ``description`` or ``brand`` are joined with spaces. Later duplicates of an id are errors
    (the first occurrence is kept in skip mode).
    """
    config = config or ValidationConfig()
    if "item_id" not in frame.columns:
        raise ValueError(f"{file}: no 'item_id' column after mapping; columns are {frame.columns}")
    frame = _line_numbers(frame)
    item = _ids(frame, "item_id")
    frame = frame.with_columns(item.alias("__v_item"), item.is_not_null().alias("__v_g_item")).with_columns(
        pl.col(LINE_COLUMN).first().over("__v_item").alias("__v_first")
    )
    repeated = pl.col("__v_g_item") & ~pl.col("__v_item").is_first_distinct()
    checks = [
        _missing("item_id", "__v_g_item"),
        _Check(
            "item_id",
            "duplicate_id",
            repeated,
            pl.format("duplicate item_id '{}' (first on line {})", _shown("__v_item"), pl.col("__v_first")),
        ),
    ]
    typed = {"item_id": "__v_item"}
    if "price" in frame.columns:
        price, price_given = _parse_numbers(frame["price"])
        frame = frame.with_columns(price.alias("__v_price"), price_given.alias("__v_g_price"))
        checks.append(_unparseable("price", "__v_price", "__v_g_price", "a number", "bad_type"))
        checks.append(
            _Check(
                "price",
                "negative_price",
                pl.col("__v_price") < 0,
                pl.format("negative price {}", pl.col("__v_price").cast(pl.String)),
            )
        )
        typed["price"] = "__v_price"
    for name, separator in (
        ("title", " "),
        ("description", " "),
        ("brand", " "),
        ("category", CATEGORY_SEPARATOR),
    ):
        if name in frame.columns:
            frame = frame.with_columns(_text(frame, name, separator).alias(f"__v_{name}"))
            typed[name] = f"__v_{name}"
    errors, bad = _collect_errors(frame, checks, file)
    kept = _keep(frame, bad, typed)
    report = _finish(kept, errors, structural, file, frame.height, config)
    return conform(kept, ITEMS_SCHEMA), report

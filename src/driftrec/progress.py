"""One place that builds Rich progress bars, so every long loop looks and behaves the same."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

__all__ = ["progress_enabled", "track"]

T = TypeVar("T")


def progress_enabled() -> bool:
    """Bars only on an interactive terminal unless DRIFTREC_PROGRESS=1 forces them (0 hides them)."""
    forced = os.environ.get("DRIFTREC_PROGRESS")
    if forced is not None:
        return forced not in ("0", "", "false")
    return sys.stderr.isatty()


def track(
    items: Iterable[T], description: str, total: int | None = None, enabled: bool | None = None
) -> Iterator[T]:
    """Iterate with a progress bar on stderr (never mixed into stdout results)."""
    if not (progress_enabled() if enabled is None else enabled):
        yield from items
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task(description, total=total)
        for item in items:
            yield item
            bar.advance(task)

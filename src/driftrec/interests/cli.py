"""``driftrec interests ...``: interest analytics from the command line (library: driftrec.reports)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.console import Console
from rich.logging import RichHandler

app = typer.Typer(help="Interest migration and evolution: reports and analytics.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


@app.callback()
def main() -> None:
    """Interest migration and evolution analytics."""


@app.command("report")
def report(
    out: Annotated[Path, typer.Option(help="Directory for index.html, png/ and facts.json.")],
    dataset: Annotated[
        str | None, typer.Option(help="Registered dataset name, e.g. movielens-latest-small.")
    ] = None,
    data: Annotated[
        Path | None, typer.Option(help="Saved dataset directory (from 'data import' or 'simulate').")
    ] = None,
    synthetic: Annotated[bool, typer.Option("--synthetic", help="Generate a synthetic shop.")] = False,
    users: Annotated[int, typer.Option(help="Users of the synthetic shop.")] = 500,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic shop and of the text topics.")] = 0,
    level: Annotated[int, typer.Option(help="Category depth: 0 = top level.")] = 0,
    category_column: Annotated[
        str, typer.Option(help="Item column with categories (a list column counts each, e.g. genres).")
    ] = "category",
    categories_from_text: Annotated[
        int | None,
        typer.Option(
            "--categories-from-text",
            min=2,
            help="For a catalogue without categories: cluster item text (title/description, else review "
            "text) into N topics named by their distinctive words, and use those instead of "
            "--category-column.",
        ),
    ] = None,
    window: Annotated[
        str | None, typer.Option(help="Window length such as 1d, 7d, 91d (default: ~100 windows).")
    ] = None,
    segments: Annotated[int, typer.Option(help="Number of user segments.")] = 5,
    examples: Annotated[int, typer.Option(help="Users to draw an interest stream for.")] = 3,
    user: Annotated[list[str] | None, typer.Option(help="A user to draw (repeatable).")] = None,
    png: Annotated[bool, typer.Option(help="Write PNGs (needs Chromium: make chromium).")] = True,
    trends: Annotated[bool, typer.Option(help="Add category demand forecasts (statsforecast).")] = True,
    plotly_js: Annotated[
        str,
        typer.Option(help="inline: self-contained page (offline); cdn: small page loading plotly.js."),
    ] = "inline",
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each step.")] = False,
) -> None:
    """Write an interest migration report (library: driftrec.reports.write_interest_report)."""
    from driftrec.data import load_dataset
    from driftrec.data.dataset import Dataset
    from driftrec.data.synthetic import SyntheticShopConfig, generate
    from driftrec.interests.text_topics import TextTopicConfig
    from driftrec.reports import ReportConfig, write_interest_report

    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=err, show_path=False)],
        force=True,
    )
    if sum([dataset is not None, data is not None, synthetic]) != 1:
        err.print("[bold red]error:[/] give exactly one of --dataset, --data or --synthetic")
        raise typer.Exit(code=2)
    truth: pl.DataFrame | None = None
    try:
        if synthetic:
            shop = generate(SyntheticShopConfig(n_users=users, seed=seed))
            source, truth = shop.dataset, shop.truth
        elif dataset is not None:
            source = load_dataset(dataset)
        else:
            assert data is not None
            source = Dataset.load(data)
            if (data / "truth.parquet").exists():
                truth = pl.read_parquet(data / "truth.parquet")
        config = ReportConfig(
            level=level,
            category_column=category_column,
            window=window,
            n_segments=segments,
            example_users=examples,
            users=tuple(user or ()),
            png=png,
            trends=trends,
            plotly_js=plotly_js,
            text_topics=(
                TextTopicConfig(n_topics=categories_from_text, seed=seed)
                if categories_from_text is not None
                else None
            ),
        )
        files = write_interest_report(source, out, config, truth=truth)
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(code=2) from exc
    f = files.facts
    console.print(
        f"[bold]{f['dataset']}[/]: {f['users']:,} users, {f['categories']} categories "
        f"({f['category_source']}), "
        f"{f['migrations']:,} migrations ({f['abrupt']} abrupt, {f['gradual']} gradual), {f['bursts']} bursts"
    )
    console.print(f"report: {files.html}")
    for name, path in files.pngs.items():
        console.print(f"  {name}: {path}")


from driftrec.interests.cli_forecast import predict_command, trends_command  # noqa: E402

app.command("predict")(predict_command)
app.command("trends")(trends_command)

"""The ``driftrec`` command line: a thin shell over library calls, printing with Rich.

Every command maps to one function in the library (named in its help), so anything done here can
be done from Python too.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

from driftrec import __version__
from driftrec.interests.cli import app as interests_app
from driftrec.policy.cli import app as policy_app
from driftrec.ranking.cli import app as rank_app
from driftrec.serving.cli import app as serving_app

app = typer.Typer(
    name="driftrec",
    help="Recommendations that follow how shoppers' interests migrate and evolve.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
data_app = typer.Typer(help="Import, inspect and split event logs.", no_args_is_help=True)
app.add_typer(data_app, name="data")
app.add_typer(interests_app, name="interests")
app.add_typer(policy_app, name="policy")
app.add_typer(rank_app, name="rank")
app.add_typer(serving_app, name="serve")

console = Console()
err = Console(stderr=True)


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=err, show_path=False)],
        force=True,
    )


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code=2)


def _parse_params(pairs: list[str] | None) -> dict[str, Any]:
    """``key=value`` strings -> dict, values read as JSON when they parse (numbers, booleans)."""
    params: dict[str, Any] = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise _fail(f"--param expects key=value, got {pair!r}")
        key, raw = pair.split("=", 1)
        try:
            params[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            params[key.strip()] = raw
    return params


def _metrics_table(title: str, rows: dict[str, dict[str, float]], metrics: tuple[str, ...]) -> Table:
    """Models as rows when several, metrics as rows when one (stays readable in 80 columns)."""
    table = Table(title=title)
    if len(rows) == 1:
        name, values = next(iter(rows.items()))
        table.add_column("metric", style="bold")
        table.add_column(name, justify="right")
        for metric in metrics:
            table.add_row(metric, f"{values.get(metric, float('nan')):.4f}")
        return table
    table.add_column("model", style="bold", no_wrap=True)
    for metric in metrics:
        table.add_column(metric, justify="right")
    for name, values in rows.items():
        table.add_row(name, *(f"{values.get(m, float('nan')):.4f}" for m in metrics))
    return table


MAIN_METRICS = ("HR@10", "NDCG@10", "MRR@10", "Recall@20", "NDCG@20", "Coverage@10")


@app.callback(invoke_without_command=True)
def main(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    _setup_logging(verbose=False)
    if version:
        console.print(f"driftrec {__version__}")
        raise typer.Exit()


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Directory for data, results, report and model bundle.")] = Path(
        "runs/demo"
    ),
    users: Annotated[int, typer.Option(help="Users in the synthetic shop.")] = 3000,
    items: Annotated[int, typer.Option(help="Items in the synthetic shop.")] = 1500,
    seed: Annotated[int, typer.Option(help="Seed: same seed, same numbers.")] = 7,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each step.")] = False,
) -> None:
    """The main job: synthetic shop -> split -> all baselines -> metrics table, results, reports.

    Library call: ``driftrec.workflows.demo.run_demo``.
    """
    _setup_logging(verbose)
    from driftrec.workflows.demo import DemoConfig, run_demo

    with err.status("Running the demo: generating the shop, fitting and evaluating baselines..."):
        outcome = run_demo(out, DemoConfig(n_users=users, n_items=items, seed=seed))
    log = outcome.prepared.log
    console.print(
        f"Synthetic shop: {len(log):,} interactions, {log.n_users:,} users, {log.n_items:,} items; "
        f"leave-one-out, full ranking, {len(outcome.prepared.split.test):,} test users."
    )
    rows = {name: o.result.metrics for name, o in outcome.outcomes.items()}
    console.print(_metrics_table("Test metrics (seen items excluded)", rows, MAIN_METRICS))
    console.print(
        f"Results: {outcome.results_dir}  Report: {outcome.report_path}  Bundle: {outcome.bundle_dir}"
    )
    if outcome.interests_path is not None:
        console.print(f"Interest migration report: {outcome.interests_path}")


@app.command()
def simulate(
    out: Annotated[Path, typer.Option(help="Directory to write the dataset and its ground truth to.")],
    users: Annotated[int, typer.Option(help="Number of users.")] = 2000,
    items: Annotated[int, typer.Option(help="Number of items.")] = 1000,
    days: Annotated[int, typer.Option(help="Length of the simulated period in days.")] = 60,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
) -> None:
    """Generate a synthetic shop with planted interest migrations (``driftrec.data.synthetic.generate``)."""
    from driftrec.data.synthetic import SyntheticShopConfig, generate

    try:
        config = SyntheticShopConfig(n_users=users, n_items=items, days=days, seed=seed)
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    with err.status("Generating the synthetic shop..."):
        shop = generate(config)
        shop.save(out)
    counts = shop.dataset.events.group_by("event").len().sort("len", descending=True)
    console.print(
        f"Wrote {shop.dataset.events.height:,} events and {shop.truth.height:,} planted changes to {out}"
    )
    console.print(", ".join(f"{e}: {n:,}" for e, n in counts.iter_rows()))


@data_app.command("import")
def data_import(
    source: Annotated[str, typer.Argument(help="A file path, or a dataset name with --dataset.")],
    out: Annotated[Path, typer.Option(help="Directory for the processed dataset (Parquet).")],
    dataset: Annotated[bool, typer.Option("--dataset", help="SOURCE names a known public dataset.")] = False,
    root: Annotated[Path | None, typer.Option(help="Folder holding the public datasets.")] = None,
    items_file: Annotated[Path | None, typer.Option("--items", help="Item catalogue file.")] = None,
    mapping: Annotated[
        list[str] | None, typer.Option("--map", help="canonical=source column, e.g. user_id=visitorid.")
    ] = None,
    mode: Annotated[
        str, typer.Option(help="strict: fail listing every bad row; skip: drop and report.")
    ] = "strict",
    ts_unit: Annotated[str, typer.Option(help="Unit of numeric timestamps: s, ms, us.")] = "s",
    pseudonymise_key_env: Annotated[
        str | None, typer.Option(help="Env var holding a key: user ids are replaced by a keyed hash.")
    ] = None,
) -> None:
    """Read a log (CSV/TSV/Parquet/JSONL, or a public dataset), validate it and save it as Parquet.

    Library calls: ``driftrec.data.read_events`` / ``read_items`` / ``load_dataset``.
    """
    from driftrec.data import (
        Dataset,
        DataValidationError,
        load_dataset,
        pseudonymise_ids,
        read_events,
        read_items,
    )

    if mode not in ("strict", "skip"):
        raise _fail(f"--mode must be strict or skip, got {mode!r}")
    try:
        if dataset:
            ds = load_dataset(source, root=root)
        else:
            cols = dict(_parse_params(mapping))
            events, report = read_events(Path(source), mapping=cols or None, mode=mode, ts_unit=ts_unit)  # type: ignore[arg-type]
            items_frame = None
            if items_file is not None:
                items_frame, _ = read_items(items_file, mode=mode)  # type: ignore[arg-type]
            if report.errors:
                err.print(f"[yellow]skipped {len(report.errors):,} bad rows:[/] {report.by_kind}")
            ds = Dataset(Path(source).stem, events, items_frame, meta={"source": str(source)})
    except DataValidationError as exc:
        raise _fail(str(exc)) from exc
    except (FileNotFoundError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    if pseudonymise_key_env:
        key = os.environ.get(pseudonymise_key_env)
        if not key:
            raise _fail(f"environment variable {pseudonymise_key_env} is empty or unset")
        events = ds.events.with_columns(pseudonymise_ids(ds.events.get_column("user_id"), key.encode()))
        ds = ds.with_events(events, pseudonymised=True)
    ds.save(out)
    console.print(f"Saved {ds.name}: {ds.events.height:,} events to {out}")


@data_app.command("stats")
def data_stats(
    path: Annotated[Path, typer.Argument(help="A directory written by 'data import' or 'simulate'.")],
) -> None:
    """Counts, time range, event types and sparsity of a saved dataset (``driftrec.data.dataset_stats``)."""
    from driftrec.data import Dataset, dataset_stats

    try:
        ds = Dataset.load(path)
    except FileNotFoundError as exc:
        raise _fail(str(exc)) from exc
    stats = dataset_stats(ds)
    table = Table(title=f"{ds.name}")
    table.add_column("statistic")
    table.add_column("value", justify="right")
    for key, value in stats.items():
        table.add_row(key, f"{value:,}" if isinstance(value, int) else str(value))
    console.print(table)


def _spec(protocol: str, test_start: str | None, first_only: bool, events: str | None) -> Any:
    from driftrec.workflows.prepare import SplitSpec

    try:
        return SplitSpec(
            protocol=protocol,  # type: ignore[arg-type]
            test_start=datetime.fromisoformat(test_start) if test_start else None,
            first_interaction_only=first_only,
            events=tuple(e.strip() for e in events.split(",")) if events else None,
        )
    except ValueError as exc:
        raise _fail(str(exc)) from exc


ProtocolOpt = Annotated[str, typer.Option(help="leave-one-out or temporal.")]
TestStartOpt = Annotated[str | None, typer.Option(help="Temporal split time T (ISO), default: 90% quantile.")]
FirstOnlyOpt = Annotated[bool, typer.Option(help="Keep each user's first event per item only.")]
EventsOpt = Annotated[str | None, typer.Option(help="Comma-separated event types to use (default all).")]


@data_app.command("split")
def data_split(
    path: Annotated[Path, typer.Argument(help="A saved dataset directory.")],
    out: Annotated[Path, typer.Option(help="Directory for train/valid/test Parquet files.")],
    protocol: ProtocolOpt = "leave-one-out",
    test_start: TestStartOpt = None,
    first_interaction_only: FirstOnlyOpt = False,
    events: EventsOpt = None,
) -> None:
    """Split by time without leakage and write the parts (``driftrec.workflows.prepare.prepare``)."""
    from driftrec.data import Dataset
    from driftrec.workflows.prepare import prepare
    from driftrec.workflows.split_io import write_split

    prepared = prepare(Dataset.load(path), _spec(protocol, test_start, first_interaction_only, events))
    written = write_split(prepared, out)
    console.print(", ".join(f"{key}: {value}" for key, value in prepared.split.protocol.items()))
    for name, rows in written.items():
        console.print(f"  {name}: {rows:,} rows")


@app.command()
def train(
    data: Annotated[Path, typer.Option(help="Saved dataset directory (from 'data import' or 'simulate').")],
    model: Annotated[
        str, typer.Option(help="Model name, e.g. ease, itemknn, markov, als, bpr, most-popular.")
    ],
    out: Annotated[Path, typer.Option(help="Directory for the model bundle.")],
    param: Annotated[
        list[str] | None,
        typer.Option(
            help="Model parameter key=value (repeatable); nested sections with a dot, e.g. "
            "training.epochs=5, fusion=id+text (item text embedded with the built-in MiniLM encoder)."
        ),
    ] = None,
    protocol: ProtocolOpt = "leave-one-out",
    test_start: TestStartOpt = None,
    first_interaction_only: FirstOnlyOpt = False,
    events: EventsOpt = None,
    warm_start: Annotated[
        Path | None,
        typer.Option(
            help="Start from this bundle's weights (same model and catalogue; sasrec/bert4rec), e.g. "
            "finish a cheap loss=sampled run with loss=full."
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Fit a model on the training part and save a bundle (``driftrec.workflows.train_bundle``)."""
    _setup_logging(verbose)
    from driftrec.data import Dataset
    from driftrec.workflows.modeling import nest_params
    from driftrec.workflows.training import train_bundle

    spec = _spec(protocol, test_start, first_interaction_only, events)
    try:
        params = nest_params(_parse_params(param))
        bundle, fit_s = train_bundle(
            Dataset.load(data), model, params, spec, data_dir=data, warm_start=warm_start
        )
    except (ValueError, KeyError, FileNotFoundError) as exc:
        raise _fail(str(exc)) from exc
    bundle.save(out)
    console.print(f"Trained {model} in {fit_s:.1f}s; bundle saved to {out}")


@app.command()
def evaluate(
    bundle: Annotated[Path, typer.Option(help="Model bundle from 'driftrec train'.")],
    part: Annotated[str, typer.Option(help="test or valid.")] = "test",
    k: Annotated[str, typer.Option(help="Cut-offs, comma separated.")] = "5,10,20",
    include_seen: Annotated[bool, typer.Option(help="Do not exclude items already in the history.")] = False,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the result record here.")] = None,
) -> None:
    """Full-ranking evaluation of a bundle on the split it was trained for (``evaluate_bundle``)."""
    from driftrec.evaluation.ranking import RankingConfig
    from driftrec.workflows.training import evaluate_bundle

    if part not in ("test", "valid"):
        raise _fail("--part must be test or valid")
    ranking = RankingConfig(ks=tuple(int(x) for x in k.split(",")), exclude_seen=not include_seen)
    try:
        record = evaluate_bundle(bundle, part, ranking)  # type: ignore[arg-type]
    except (ValueError, FileNotFoundError) as exc:
        raise _fail(str(exc)) from exc
    cut_offs = ranking.ks
    shown = tuple(f"{m}@{c}" for c in cut_offs for m in ("HR", "NDCG", "MRR"))
    console.print(
        _metrics_table(f"{record['dataset']} ({part})", {record["model"]: record["metrics"]}, shown)
    )
    if json_out:
        json_out.write_text(json.dumps(record, indent=2) + "\n")


@app.command()
def recommend(
    bundle: Annotated[Path, typer.Option(help="Model bundle directory.")],
    user: Annotated[list[str] | None, typer.Option(help="External user id (repeatable).")] = None,
    history: Annotated[
        str | None, typer.Option(help="Comma-separated item ids, oldest first: an anonymous session.")
    ] = None,
    k: Annotated[int, typer.Option("-k", "--k", help="How many items.")] = 10,
    include_seen: Annotated[bool, typer.Option(help="Allow items already in the history.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Top-k items for known users or for a history the model never saw (``Bundle.recommend``)."""
    from driftrec.workflows.bundle import load_bundle

    if not user and history is None:
        raise _fail("give --user (repeatable) or --history")
    try:
        loaded = load_bundle(bundle)
    except FileNotFoundError as exc:
        raise _fail(str(exc)) from exc
    if user:
        labels = list(user)
        batch = loaded.histories_for_users(labels)
    else:
        labels = ["(history)"]
        batch = loaded.histories_from_items([[h.strip() for h in (history or "").split(",") if h.strip()]])
    lists = loaded.recommend(batch, k=k, exclude_seen=not include_seen)
    if as_json:
        payload = {
            lab: [{"item_id": r.item_id, "score": r.score} for r in recs]
            for lab, recs in zip(labels, lists, strict=True)
        }
        console.print_json(json.dumps(payload))
        return
    for lab, recs in zip(labels, lists, strict=True):
        table = Table(title=f"top {k} for {lab}")
        table.add_column("rank", justify="right")
        table.add_column("item")
        table.add_column("score", justify="right")
        for r in recs:
            table.add_row(str(r.rank), r.item_id, f"{r.score:.4f}")
        console.print(table)

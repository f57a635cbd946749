"""``driftrec serve --model BUNDLE`` runs the HTTP API under uvicorn; ``driftrec serve key`` makes a key."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

__all__ = ["app"]

app = typer.Typer(
    help="Serve a model bundle over HTTP (library: driftrec.serving.create_app).",
    invoke_without_command=True,
    no_args_is_help=False,
)
console = Console(stderr=True)


@app.callback()
def serve(
    ctx: typer.Context,
    model: Annotated[Path | None, typer.Option(help="Model bundle (from 'driftrec train').")] = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    db: Annotated[str, typer.Option(help="Event store: SQLite file or postgresql:// URL.")] = "events.sqlite",
    items: Annotated[Path | None, typer.Option(help="Item catalogue (default: the bundle's data).")] = None,
    keys_file: Annotated[
        Path | None, typer.Option(help="API keys file (from 'driftrec serve key'); none: open API.")
    ] = None,
    pseudonymise_key_env: Annotated[
        str | None, typer.Option(help="Env var holding a key: user ids are keyed-hashed at the boundary.")
    ] = None,
    synchronous: Annotated[str, typer.Option(help="SQLite sync: FULL (power-safe) or NORMAL.")] = "FULL",
    search: Annotated[bool, typer.Option(help="Embed item text for /search, POST /items.")] = True,
    max_body_bytes: Annotated[int, typer.Option(help="Largest request body accepted.")] = 1_000_000,
    torch_threads: Annotated[int, typer.Option(help="Torch intra-op threads, set once (0: default).")] = 1,
    micro_batch: Annotated[bool, typer.Option(help="Batch concurrent /recommend calls.")] = True,
    batch_window_ms: Annotated[float, typer.Option(help="How long a batch waits for company.")] = 1.0,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "warning",
) -> None:
    """Serve a model bundle: events in, recommendations out (``create_app`` under uvicorn)."""
    if ctx.invoked_subcommand is not None:
        return
    if model is None:
        console.print("[bold red]error:[/] --model is required (a bundle directory from 'driftrec train')")
        raise typer.Exit(2)
    import uvicorn

    from driftrec.serving import ServingSettings, create_app
    from driftrec.serving.security import load_keys

    if keys_file is not None and not keys_file.exists():
        console.print(
            f"[bold red]error:[/] keys file {keys_file} does not exist (make one: 'driftrec serve key')"
        )
        raise typer.Exit(2)
    key = None
    if pseudonymise_key_env:
        raw = os.environ.get(pseudonymise_key_env)
        if not raw:
            console.print(f"[bold red]error:[/] env var {pseudonymise_key_env} is empty or unset")
            raise typer.Exit(2)
        key = raw.encode()
    try:
        settings = ServingSettings(
            model=model,
            db=db,
            items=items,
            synchronous=synchronous,  # type: ignore[arg-type]
            api_keys=load_keys(keys_file) if keys_file else (),
            pseudonymise_key=key,
            search=search,
            max_body_bytes=max_body_bytes,
            torch_threads=torch_threads,
            micro_batch=micro_batch,
            batch_window_ms=batch_window_ms,
        )
    except ValueError as exc:
        console.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    if not (model / "bundle.json").exists():
        console.print(f"[bold red]error:[/] {model} is not a driftrec model bundle (no bundle.json)")
        raise typer.Exit(2)
    logging.getLogger("driftrec").setLevel(logging.INFO)
    uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level, access_log=False)


@app.command("key")
def key(
    role: Annotated[str, typer.Option(help="read, ingest or admin.")],
    keys_file: Annotated[Path, typer.Option(help="Keys file to append the hashed key to.")],
    name: Annotated[str, typer.Option(help="A label for the key (who uses it).")] = "",
) -> None:
    """Create an API key: print it once, store only its scrypt hash in KEYS_FILE."""
    from driftrec.serving.security import ROLES, create_api_key, load_keys, save_keys

    if role not in ROLES:
        console.print(f"[bold red]error:[/] --role must be one of {', '.join(ROLES)}")
        raise typer.Exit(2)
    plaintext, record = create_api_key(role, name)  # type: ignore[arg-type]
    save_keys(keys_file, (*load_keys(keys_file), record))
    typer.echo(plaintext)
    console.print(f"{role} key {record.key_id} added to {keys_file}; the key is shown only now.")

"""Figures to files: one self-contained HTML page (plotly.js inline, works offline) and PNGs via Kaleido.

Kaleido (v1) drives a headless Chromium; ``make chromium`` installs Debian's package where it is
missing. PNGs are written in one batch so the browser starts once per report, not once per figure.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs, get_plotlyjs_version

_CSS = """
body { font-family: Arial, Helvetica, sans-serif; margin: 2em auto; max-width: 1260px; color: #222; }
h1 { margin-bottom: 0.2em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
p.lead { color: #555; margin-top: 0; } p.note { color: #555; max-width: 60em; }
table { border-collapse: collapse; margin: 0.8em 0 1.5em 0; font-size: 14px; }
th, td { border: 1px solid #ddd; padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
nav a { margin-right: 1em; }
"""


@dataclass(frozen=True)
class Section:
    """A part of the page: heading, explanatory text, optional figure and tables (already HTML)."""

    key: str
    title: str
    text: str = ""
    figure: go.Figure | None = None
    tables: tuple[str, ...] = ()


def table_html(
    rows: Sequence[Mapping[str, object]], columns: Sequence[str], *, caption: str | None = None
) -> str:
    """A small HTML table; numbers right-aligned and rounded, everything escaped."""

    def cell(value: object) -> str:
        if isinstance(value, float):
            return (
                f'<td class="num">{value:,.3g}</td>'
                if abs(value) < 1e4
                else f'<td class="num">{value:,.0f}</td>'
            )
        if isinstance(value, int) and not isinstance(value, bool):
            return f'<td class="num">{value:,}</td>'
        if isinstance(value, list | tuple):
            return f"<td>{html.escape(', '.join(str(v) for v in value))}</td>"
        return f"<td>{html.escape('' if value is None else str(value))}</td>"

    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(cell(r.get(c)) for c in columns) + "</tr>" for r in rows)
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


#: Where the page gets plotly.js: "inline" (self-contained, ~4.8 MB, works offline) or "cdn" (a script
#: tag for the matching version on cdn.plot.ly; small, for reports kept in git or served on the web).
PLOTLY_JS_MODES = ("inline", "cdn")


def plotly_script(mode: str = "inline") -> str:
    if mode == "inline":
        return f'<script type="text/javascript">{get_plotlyjs()}</script>'
    if mode == "cdn":
        url = f"https://cdn.plot.ly/plotly-{get_plotlyjs_version()}.min.js"
        return f'<script src="{url}" charset="utf-8"></script>'
    raise ValueError(f"plotly_js must be one of {', '.join(PLOTLY_JS_MODES)}, got {mode!r}")


def render_html(title: str, lead: str, sections: Sequence[Section], plotly_js: str = "inline") -> str:
    """The whole report as one HTML string; with ``plotly_js="inline"`` no network is needed to view it."""
    nav = " ".join(f'<a href="#{s.key}">{html.escape(s.title)}</a>' for s in sections)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style>",
        plotly_script(plotly_js),
        "</head><body>",
        f"<h1>{html.escape(title)}</h1><p class='lead'>{lead}</p><nav>{nav}</nav>",
    ]
    for s in sections:
        parts.append(f'<h2 id="{s.key}">{html.escape(s.title)}</h2>')
        if s.text:
            parts.append(f"<p class='note'>{s.text}</p>")
        if s.figure is not None:
            parts.append(s.figure.to_html(full_html=False, include_plotlyjs=False, div_id=f"fig-{s.key}"))
        parts.extend(s.tables)
    parts.append("</body></html>")
    return "\n".join(parts)


def write_pngs(
    figures: Mapping[str, go.Figure], directory: Path, *, scale: float = 1.0, compact: bool = True
) -> list[Path]:
    """Write ``<name>.png`` for every figure, in one Kaleido batch (one Chromium start).

    ``compact`` re-saves each PNG with a 256-colour palette (Pillow): charts have few colours, the image
    looks the same and the file is about three times smaller, which matters for reports kept in git.
    """
    directory.mkdir(parents=True, exist_ok=True)
    names = list(figures)
    paths = [directory / f"{name}.png" for name in names]
    if not names:
        return []
    try:
        pio.write_images(
            [figures[n] for n in names],
            [str(p) for p in paths],
            format="png",
            scale=scale,
            width=[int(figures[n].layout.width or 1200) for n in names],
            height=[int(figures[n].layout.height or 650) for n in names],
        )
    except Exception as exc:  # kaleido raises its own types (ChromeNotFoundError, ...)
        if "chrom" in f"{type(exc).__name__} {exc}".lower():
            raise RuntimeError(
                "PNG export needs a Chromium for Kaleido: run `make chromium` "
                "(apt-get install -y chromium) or pass --no-png"
            ) from exc
        raise
    if compact:
        for path in paths:
            _compact_png(path)
    return paths


def _compact_png(path: Path) -> None:
    from PIL import Image

    with Image.open(path) as image:
        palette = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    palette.save(path, format="PNG", optimize=True)

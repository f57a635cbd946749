"""The interest report end to end on a tiny synthetic shop: HTML content, figure titles, real PNGs."""

from __future__ import annotations

import html
import json
import re
import struct
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from driftrec.cli import app
from driftrec.data.synthetic import SyntheticShopConfig, generate
from driftrec.interests import category_at_level
from driftrec.reports import ReportConfig, ReportFiles, analyse, build_figures, write_interest_report
from driftrec.reports.analysis import OTHER, choose_window, merge_rare, report_items

TINY = SyntheticShopConfig(n_users=80, n_items=200, days=40, events_per_user_mean=120.0, seed=5)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ReportFiles, pl.DataFrame]:
    shop = generate(TINY)
    out = tmp_path_factory.mktemp("report")
    config = ReportConfig(level=1, window="1d", n_segments=3, example_users=2)
    files = write_interest_report(shop.dataset, out, config, truth=shop.truth)
    return out, files, shop.truth


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


Built = tuple[Path, ReportFiles, pl.DataFrame]


def test_html_names_the_planted_categories_and_is_self_contained(report: Built) -> None:
    out, _, truth = report
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "<script src=" not in page  # plotly.js inline: no network needed
    assert "Plotly.newPlot" in page
    planted = truth.filter(kind="abrupt").select(category_at_level("to_category", 1))["to_category"]
    top_planted = planted.value_counts().sort("count", descending=True)["to_category"].head(3).to_list()
    for name in top_planted:
        assert html.escape(name) in page, f"planted category {name!r} missing from the report"
    for heading in ("Interest stream: user", "Category migrations", "Transition heatmap", "Segments"):
        assert heading in page
    facts = json.loads((out / "facts.json").read_text())
    assert facts["migrations"] > 10
    assert facts["users"] == TINY.n_users


def test_every_figure_has_a_title_and_a_readable_png(report: Built) -> None:
    out, files, _ = report
    titles = files.figure_titles
    expected = {"user_stream_1", "user_stream_2", "migration_sankey", "transition_heatmap",
                "category_popularity", "segment_profiles", "migrations_over_time"}  # fmt: skip
    assert expected <= set(titles)
    for name, title in titles.items():
        assert len(title) > 10, f"figure {name} has no real title"
        path = out / "png" / f"{name}.png"
        assert path.stat().st_size > 12_000, f"{path} looks empty"  # a blank titled 1200x650 PNG is ~5 kB
        width, height = _png_size(path)
        assert width == 1200 and height >= 650


def test_stream_marks_detected_and_planted_migrations() -> None:
    shop = generate(TINY)
    analysis = analyse(shop.dataset, ReportConfig(level=1, window="1d", trends=False), truth=shop.truth)
    user = analysis.example_users[0]
    fig = build_figures(analysis)["user_stream_1"]
    labels = [a.text for a in fig.layout.annotations]
    moves = analysis.migrations.filter(pl.col("user_id") == user)
    assert moves.height >= 1
    assert sum("→" in t and not t.startswith("planted") for t in labels) == moves.height
    # legend entries are category names (paths), never ids
    names = {t.name for t in fig.data}
    assert names <= set(analysis.profiles.categories) | {"other categories", "window with events"}


def test_window_choice_and_rare_categories() -> None:
    import datetime as dt

    t0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    assert choose_window(t0, t0 + dt.timedelta(days=9)) == "3h"
    assert choose_window(t0, t0 + dt.timedelta(days=60)) == "1d"
    assert choose_window(t0, t0 + dt.timedelta(days=22 * 365)) == "91d"
    items = pl.DataFrame({"item_id": ["a", "b", "c"], "genres": [["X", "Y"], ["Y"], ["Z"]]})
    cut = report_items(items, "genres", 0)
    assert sorted(cut.filter(item_id="a")["category"].to_list()) == ["X", "Y"]
    events = pl.DataFrame({"item_id": ["a", "b", "b", "c"], "event": ["view"] * 4})
    merged, top = merge_rare(events, cut, 1, {"view": 1.0})
    assert top == ["Y"]
    assert set(merged["category"].to_list()) == {"Y", OTHER}


def test_cli_writes_a_report_without_pngs(tmp_path: Path) -> None:
    shop = generate(TINY)
    shop.save(tmp_path / "shop")
    result = CliRunner().invoke(
        app,
        ["interests", "report", "--data", str(tmp_path / "shop"), "--out", str(tmp_path / "r"), "--no-png",
         "--no-trends", "--segments", "2", "--examples", "1"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r" / "index.html").stat().st_size > 1_000_000
    assert not (tmp_path / "r" / "png").exists()
    bad = CliRunner().invoke(app, ["interests", "report", "--out", str(tmp_path / "x")])
    assert bad.exit_code == 2


def test_cdn_mode_writes_a_small_page_that_loads_plotly_by_script_tag(tmp_path: Path) -> None:
    shop = generate(TINY)
    shop.save(tmp_path / "shop")
    result = CliRunner().invoke(
        app,
        ["interests", "report", "--data", str(tmp_path / "shop"), "--out", str(tmp_path / "r"), "--no-png",
         "--no-trends", "--segments", "2", "--examples", "1", "--plotly-js", "cdn"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    page = (tmp_path / "r" / "index.html").read_text()
    assert len(page) < 1_000_000
    assert re.search(r'<script src="https://cdn\.plot\.ly/plotly-\d+\.\d+\.\d+\.min\.js"', page)
    with pytest.raises(ValueError, match="plotly_js"):
        ReportConfig(plotly_js="local")

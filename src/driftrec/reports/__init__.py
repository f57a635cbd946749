"""Reports a person reads: self-contained HTML pages (Plotly) and PNG figures.

Typical use::

    from driftrec.reports import ReportConfig, write_interest_report

    files = write_interest_report(dataset, "reports/shop", ReportConfig(level=0))
    files.html, files.pngs  # index.html with plotly.js inline; png/<figure>.png
"""

from __future__ import annotations

from driftrec.reports.analysis import InterestAnalysis, ReportConfig, analyse
from driftrec.reports.interests import ReportFiles, build_figures, write_interest_report

__all__ = [
    "InterestAnalysis",
    "ReportConfig",
    "ReportFiles",
    "analyse",
    "build_figures",
    "write_interest_report",
]

"""Real-process durability: SIGKILL ``driftrec serve`` mid-burst, restart, find every acknowledged event.

Short form (one kill, ~150 acknowledged events); ``benchmarks/durability.py`` runs the full drill.
"""

from __future__ import annotations

from pathlib import Path

from driftrec.serving.durability import DrillConfig, run_drill


def test_sigkill_mid_burst_loses_no_acknowledged_event(
    bundle_dir: Path, item_ids: list[str], tmp_path: Path
) -> None:
    config = DrillConfig(
        model=bundle_dir,
        db=tmp_path / "events.sqlite",
        items=tuple(item_ids),
        cycles=1,
        senders=3,
        kill_after=150,
        log_path=tmp_path / "server.log",
    )
    result = run_drill(config)
    assert result.kills == 1
    assert result.acknowledged_events >= 150
    assert result.failed_requests >= 1  # the kill really hit requests in flight
    assert result.lost_in_store == 0, result
    assert result.lost_in_state == 0, result

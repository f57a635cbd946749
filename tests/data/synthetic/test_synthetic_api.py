"""The public surface of driftrec.data.synthetic is pinned, and its documented quick start runs."""

from __future__ import annotations

import re

import driftrec.data.synthetic as synthetic


def test_public_api_is_pinned() -> None:
    assert sorted(synthetic.__all__) == [
        "Response",
        "STAGES",
        "ShopEnvironment",
        "SyntheticShop",
        "SyntheticShopConfig",
        "generate",
        "iter_events",
        "write_shop",
    ]


def test_docstring_quick_start_runs() -> None:
    doc = synthetic.__doc__ or ""
    block = doc.split("Typical use::", 1)[1].split("Everything is deterministic", 1)[0]
    code = "\n".join(line[4:] for line in block.strip("\n").splitlines())
    code = code.replace("n_users=500", "n_users=50")  # keep the test fast
    assert re.search(r"generate\(SyntheticShopConfig\(", code)
    namespace: dict[str, object] = {}
    exec(code, namespace)
    assert "env" in namespace and "shop" in namespace

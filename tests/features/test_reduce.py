"""PCA/SVD reduction of text vectors and feature selection by permutation importance."""

from __future__ import annotations

import numpy as np
import pytest

from driftrec.features.reduce import feature_importance, reduce_matrix, select_features


def test_reduce_keeps_padding_zero_and_most_variance() -> None:
    rng = np.random.default_rng(0)
    basis = rng.standard_normal((3, 20))
    x = np.vstack([np.zeros((1, 20)), rng.standard_normal((200, 3)) @ basis]).astype(np.float32)
    for method in ("pca", "svd"):
        out = reduce_matrix(x, 3, method)  # type: ignore[arg-type]
        assert out.shape == (201, 3) and np.all(out[0] == 0)
    pca = reduce_matrix(x, 3, "pca")
    centred = x[1:] - x[1:].mean(0)
    assert (pca[1:] ** 2).sum() == pytest.approx((centred**2).sum(), rel=1e-3)  # rank 3: all variance
    with pytest.raises(ValueError, match="dim"):
        reduce_matrix(x, 20)


def test_selection_keeps_the_informative_feature() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1500, 4)).astype(np.float32)
    y = (x[:, 2] + 0.3 * rng.standard_normal(1500) > 0).astype(int)
    imp = feature_importance(x, y, ["a", "b", "signal", "d"], seed=0)
    assert imp.ranked()[0][0] == "signal"
    assert select_features(imp, keep=1) == ["signal"]

from __future__ import annotations

import numpy as np
import pytest

from driftrec.policy.obd import default_obd_root, load_obd

pytestmark = pytest.mark.skipif(not default_obd_root().exists(), reason="OBD sample not on this machine")


def test_load_obd_random_log() -> None:
    obd = load_obd("random", "men")
    data = obd.feedback
    assert (obd.n_actions, obd.len_list, data.n_rounds) == (34, 3, 10_000)
    np.testing.assert_allclose(data.pscore, 1 / 34)  # uniform random logging policy
    assert set(np.unique(data.position)) == {0, 1, 2}
    assert np.all(np.diff(obd.timestamps_us) >= 0)
    assert data.context is not None and np.all(data.context.sum(axis=1) == 4)  # 4 one-hot user features


def test_load_obd_rejects_unknown_policy() -> None:
    with pytest.raises(ValueError, match="behavior_policy must be one of"):
        load_obd("greedy")

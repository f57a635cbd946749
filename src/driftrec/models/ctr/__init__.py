"""CTR ranking models: MLP, DIN-style attention and DIEN-style interest evolution over behaviour."""

from driftrec.models.ctr.config import ARCHITECTURES, CTRConfig
from driftrec.models.ctr.ranker import CTRRanker, load_ranker

__all__ = ["ARCHITECTURES", "CTRConfig", "CTRRanker", "load_ranker"]

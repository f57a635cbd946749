"""Recommenders behind one contract (``Recommender``) and the baselines that satisfy it."""

from __future__ import annotations

from driftrec.models.base import Recommender, mask_seen, top_k
from driftrec.models.ease import EASE, EASEConfig
from driftrec.models.implicit_mf import ALSConfig, BPRConfig, ImplicitALS, ImplicitBPR
from driftrec.models.itemknn import ItemKNN, ItemKNNConfig
from driftrec.models.markov import MarkovChain, MarkovConfig
from driftrec.models.popularity import MostPopular, MostPopularConfig, RecentPopular, RecentPopularConfig
from driftrec.models.registry import MODELS, create, load_model, model_names

__all__ = [
    "EASE",
    "MODELS",
    "ALSConfig",
    "BPRConfig",
    "EASEConfig",
    "ImplicitALS",
    "ImplicitBPR",
    "ItemKNN",
    "ItemKNNConfig",
    "MarkovChain",
    "MarkovConfig",
    "MostPopular",
    "MostPopularConfig",
    "RecentPopular",
    "RecentPopularConfig",
    "Recommender",
    "create",
    "load_model",
    "mask_seen",
    "model_names",
    "top_k",
]

"""driftrec: recommendations that follow how shoppers' interests move and change."""

__version__ = "0.1.0"

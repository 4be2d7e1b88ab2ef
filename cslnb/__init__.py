"""cslnb: long-tailed classification with cost-sensitive losses.

A baseline zoo (datasets, ResNets, losses), a GPU trainer that writes run records, and the
library behind the book that reproduces *Long tail classification through cost-sensitive loss
functions* (the CSL paper).
"""

from cslnb.profiles import PROFILES, Profile, get_profile

__version__ = "0.1.0"

__all__ = ["PROFILES", "Profile", "__version__", "get_profile"]

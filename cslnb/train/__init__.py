"""Training: recipes, the run configuration, the trainer and its checkpoints."""

from cslnb.train.config import RunConfig, TrainOptions
from cslnb.train.recipes import RECIPES, Recipe, recipe_for
from cslnb.train.trainer import TrainingDivergedError, train

__all__ = [
    "RECIPES",
    "Recipe",
    "RunConfig",
    "TrainOptions",
    "TrainingDivergedError",
    "recipe_for",
    "train",
]

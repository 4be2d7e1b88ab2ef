"""Small helpers shared by the book's notebooks: the repository URL, profile banner, plot style.

Every chapter starts with a cell that installs ``cslnb`` on Colab only. That cell cannot import
this module (``cslnb`` is not installed yet when it runs), so it spells :data:`REPO_URL` out;
``tests/test_notebooks.py`` checks that every chapter, its Colab badge and ``book/_config.yml``
agree with it.
"""

from __future__ import annotations

from cslnb.profiles import PROFILE_ENV_VAR, Profile, get_profile

REPO_URL = "https://github.com/your-org/cslnb"
"""Where Colab installs ``cslnb`` from; keep equal to ``repository.url`` in ``book/_config.yml``."""

PROFILE_SUMMARY = {
    "ci": "synthetic stand-in data, seconds per run (what CI executes)",
    "quick": "real CIFAR at 16x16 with ResNet-8, about two minutes per CIFAR-10-LT run on a CPU",
    "paper": "the paper's recipe (ResNet-32, 32x32, 200 epochs), for a GPU",
}

SHOT_COLOURS = {"many": "#0072B2", "medium": "#E69F00", "few": "#D55E00"}
"""One colour per shot group, used by every plot that colours classes by group."""


def show_profile(name: str | None = None) -> Profile:
    """Print which profile this notebook's outputs were computed under, and return it."""
    profile = get_profile(name)
    print(f"profile: {profile.name} (set ${PROFILE_ENV_VAR} to change it)")
    print(f"  {PROFILE_SUMMARY.get(profile.name, '')}")
    print(
        f"  data={profile.data}, model=ResNet-{profile.cifar_depth}, "
        f"image={profile.image_size}px, epochs={profile.epochs}"
    )
    return profile


def set_style() -> None:
    """The book's one plot style: seaborn's whitegrid, a colour-blind palette, compact figures."""
    import matplotlib as mpl
    import seaborn as sns

    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind")
    mpl.rcParams.update(
        {
            "figure.figsize": (6.4, 3.6),
            "figure.dpi": 90,
            "savefig.dpi": 90,
            "axes.titlesize": "medium",
            "axes.titleweight": "bold",
            "legend.frameon": False,
        }
    )

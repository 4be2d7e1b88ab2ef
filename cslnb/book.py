"""Small helpers shared by the book's notebooks: the Colab install cell, profile banner, plot style.

Every chapter starts with :data:`COLAB_INSTALL_CELL`, which sets ``cslnb`` up on Colab only.
That cell cannot import this module (``cslnb`` is not installed yet when it runs), so each chapter
carries its text; ``tests/test_notebooks.py`` checks that every chapter's first cell, its Colab
badge and ``book/_config.yml`` agree with this module, and ``tests/test_colab_runtime.py`` runs
the cell in a simulated fresh Colab runtime.
"""

from __future__ import annotations

from typing import Any

import torch

from cslnb.profiles import PROFILE_ENV_VAR, Profile, get_profile

REPO_URL = "https://github.com/your-org/cslnb"
"""Where Colab clones ``cslnb`` from; keep equal to ``repository.url`` in ``book/_config.yml``."""

COLAB_CLONE_DIR = "/content/cslnb"
"""Where the install cell puts the repository on Colab (``/content`` is Colab's working folder)."""

COLAB_INSTALL_CELL = f"""\
import os
import sys

# On Colab only (a no-op elsewhere): clone the repository (library, run
# records, the paper's tables), install it, work from the clone, and let
# chapters that must train fetch CIFAR (CSLNB_DOWNLOAD=1).
# Keep REPO_URL equal to repository.url in book/_config.yml.
REPO_URL = "{REPO_URL}"
if "google.colab" in sys.modules:
    if not os.path.isdir("{COLAB_CLONE_DIR}"):
        !git clone -q --depth 1 {{REPO_URL}} {COLAB_CLONE_DIR}
    !pip install -q "{COLAB_CLONE_DIR}[notebooks]"
    os.chdir("{COLAB_CLONE_DIR}")
    os.environ["CSLNB_DOWNLOAD"] = "1"
""".rstrip()
"""The first code cell of every chapter, verbatim.

Why each step: the run records and the paper's tables live in the repository, not in the
package, so Colab needs the clone (without it, reading a chapter would retrain every run);
``pip install`` of the clone pulls nothing heavy, since Colab already has torch and the
``notebooks`` extra; working from the clone makes :func:`cslnb.paths.project_root` find
``data/``; ``CSLNB_DOWNLOAD=1`` lets a chapter that has to train (a profile whose records are
not committed, or a demo on real images) fetch CIFAR instead of failing.
"""

PROFILE_SUMMARY = {
    "ci": "synthetic stand-in data, seconds per run (what CI executes)",
    "quick": "real CIFAR at 16x16, a wide ResNet-8, about three minutes per CIFAR-10-LT CPU run",
    "paper": "the paper's recipe (ResNet-32, 32x32, 200 epochs), for a GPU",
}

SHOT_COLOURS = {"many": "#0072B2", "medium": "#E69F00", "few": "#D55E00"}
"""One colour per shot group, used by every plot that colours classes by group."""


BANNER_START = "profile: "
"""First characters of :func:`profile_banner`, by which a test finds every banner committed in
the book's outputs."""


def profile_banner(name: str | None = None) -> str:
    """The three lines :func:`show_profile` prints for profile ``name``; built from the current
    definition, so ``tests/test_notebooks.py`` can tell a committed banner that describes an
    older definition of the profile."""
    profile = get_profile(name)
    return (
        f"{BANNER_START}{profile.name} (set ${PROFILE_ENV_VAR} to change it)\n"
        f"  {PROFILE_SUMMARY.get(profile.name, '')}\n"
        f"  data={profile.data}, model=ResNet-{profile.cifar_depth} (width {profile.cifar_width}), "
        f"image={profile.image_size}px, epochs={profile.epochs}\n"
    )


def show_profile(name: str | None = None) -> Profile:
    """Print which profile this notebook's outputs were computed under, and return it."""
    print(profile_banner(name), end="")
    return get_profile(name)


T4_PAPER_RUN_MINUTES_ESTIMATE = (5, 15)
"""Minutes one ``paper``-profile CIFAR-10-LT run (IR 100) should take on Colab's free T4, in
fp16: an **estimate**, not a measurement, until a T4 has run ``python -m cslnb gpu-check``. It
assumes 3,000 to 8,000 training images/s for ResNet-32 at batch 128 (eager fp16 steps, no CUDA
graph because of the gradient scaler): 200 epochs × 12,406 images = 2.48 million images, plus
40 evaluations of the 10,000 test images at about twice that rate."""


def paper_run_minutes(section: dict[str, Any], precision: str) -> float | None:
    """Minutes of one ``paper`` CIFAR-10-LT IR100 run from a bench ``gpu`` section of this GPU:
    the run's training images at the single-run rate of the step ``amp="auto"`` takes (a CUDA
    graph, except in fp16) plus its evaluated images at the evaluation rate; ``None`` when the
    section lacks either rate."""
    from cslnb.bench.projection import table_runs

    mode = "eager" if precision == "float16" else "cuda_graph"
    train_rate = section.get("step", {}).get(mode, {}).get("images_per_s")
    eval_rate = section.get("evaluation", {}).get("images_per_s")
    if not train_rate or not eval_rate:
        return None
    run = table_runs("paper")[0]
    return (run.train_images / train_rate + run.test_images / eval_rate) / 60


def accelerator_lines(device: torch.device, bench_section: dict[str, Any] | None) -> list[str]:
    """What :func:`show_accelerator` prints for ``device``, given the newest bench ``gpu``
    section of the same GPU model (or ``None``)."""
    from cslnb.train.device import cuda_capability, pick_precision

    precision = pick_precision(device, "auto")
    if device.type != "cuda":
        return [
            f"accelerator: {device.type} (no CUDA GPU); amp='auto' trains in {precision.label}",
            "  a paper run takes hours here (README: 'Paper scale without a GPU'); on Colab "
            "choose a GPU (Runtime > Change runtime type)",
        ]
    name = torch.cuda.get_device_name(device)
    major, minor = cuda_capability(device)
    how = precision.label + (" with a gradient scaler" if precision.use_scaler else "")
    lines = [
        f"accelerator: {name} ({device}, compute capability {major}.{minor})",
        f"  amp='auto' trains in {how} here (bf16 from compute capability 8.0)",
    ]
    measured = paper_run_minutes(bench_section, precision.label) if bench_section else None
    if measured is not None:
        lines.append(
            f"  one paper CIFAR-10-LT run: about {measured:.0f} min (measured by the bench)"
        )
    elif "T4" in name:
        low, high = T4_PAPER_RUN_MINUTES_ESTIMATE
        lines.append(
            f"  one paper CIFAR-10-LT run: about {low}-{high} min "
            "(an estimate: no T4 has measured it yet; python -m cslnb gpu-check does)"
        )
    else:
        lines.append(
            "  one paper CIFAR-10-LT run: not measured on this GPU yet "
            "(python -m cslnb gpu-check measures it)"
        )
    return lines


def show_accelerator() -> torch.device:
    """Print the device a run would use here, the precision ``amp="auto"`` picks on it and the
    expected time of one ``paper`` run (measured by a bench record of this GPU model, else an
    estimate where one exists, labelled so); return the device."""
    from cslnb.bench.record import load_latest_bench
    from cslnb.train.device import pick_device

    device = pick_device()
    section = None
    if device.type == "cuda":
        record = load_latest_bench("cuda", section="gpu")
        gpu = record["gpu"] if record else {}
        if gpu.get("device") == torch.cuda.get_device_name(device):
            section = gpu
    print("\n".join(accelerator_lines(device, section)))
    return device


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

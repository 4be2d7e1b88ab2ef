"""The runs behind each of the paper's tables and figures, as lists of :class:`RunConfig`.

``python -m cslnb reproduce table2 --profile quick --seeds 0 1 2`` trains every cell of Table 2
whose record is missing (seed 0 of every cell first; ``--jobs N`` runs at once, see
:mod:`cslnb.train.batch`); interrupted runs resume from their checkpoints.
"""

from __future__ import annotations

from collections.abc import Sequence

from cslnb.train.config import RunConfig

CIFAR_BASELINES = (
    "ce",
    "focal",
    "ce-cb",
    "focal-cb",
    "ldam",
    "ldam-drw",
    "ib",
    "ib-cb",
    "ib-focal",
    "balanced-softmax",
    "logit-adjusted",
    "csl",
)
"""Every method row of Tables 1-2 plus Balanced Softmax and logit adjustment."""

TABLE_CELLS: dict[str, tuple[tuple[str, float, tuple[str, ...]], ...]] = {
    "table1": (("cifar10", 50, CIFAR_BASELINES),),
    "table2": (
        ("cifar10", 100, CIFAR_BASELINES),
        ("cifar10", 50, CIFAR_BASELINES),
        ("cifar100", 200, CIFAR_BASELINES),
        ("cifar100", 100, CIFAR_BASELINES),
    ),
    "table3": (("imagenet-lt", 1, ("ce", "weighted-softmax", "equalization", "focal", "csl")),),
    "table4": (("tiny-imagenet", 100, ("ce", "focal", "ldam", "csl")),),
    "figures": (("cifar100", 100, ("csl",)), ("cifar10", 100, ("csl",))),
}
RELEASED_READING: dict[str, object] = {"reading": "released"}
"""``loss_options`` of CSL's released reading (:mod:`cslnb.losses.csl_released`)."""
TABLE_CSL_VARIANTS: dict[str, tuple[dict[str, object], ...]] = {"table4": (RELEASED_READING,)}
"""CSL variants a table's target trains beside the paper reading, in each of its cells that has
CSL: Table 4's released reading (no other target covers Tiny-ImageNet-LT; on CIFAR the
``ablations`` target trains the released reading in :data:`ABLATION_CELLS`)."""
CSL_ABLATIONS: tuple[dict[str, object], ...] = (
    RELEASED_READING,
    {"use_gamma": False},
    {"use_npred": False},
    {"use_reinforcement": False},
    {"use_denominator": False},
    {"npred": "epoch"},
)
"""CSL variants of the ablation chapter: the released reading, and the paper reading with one
term switched off (or N_pred counted per epoch); the default CSL run is the reference."""
ABLATION_CELLS = (("cifar10", 100), ("cifar100", 100))
CAMPAIGN_ABLATIONS: tuple[dict[str, object], ...] = (
    {"use_gamma": False},
    {"use_npred": False},
    {"use_reinforcement": False},
)
"""The ablations the CIFAR-10 campaign trains at the ``paper`` scale. Left out: no denominator
(its numerator carries no gradient, so it trains plain cross-entropy: the ``quick`` records equal
CE's run for run) and N_pred counted per epoch (a numerical artefact of tiny counts, gamma near
1e6 at the epsilon floor, at ``quick``)."""
TARGETS = (*TABLE_CELLS, "ablations", "campaign")


def target_runs(
    target: str,
    profile: str,
    seeds: Sequence[int] = (0,),
    datasets: Sequence[str] | None = None,
    losses: Sequence[str] | None = None,
    ratios: Sequence[float] | None = None,
) -> list[RunConfig]:
    """The runs of ``target``, optionally only some datasets / losses / imbalance ratios; a
    table's CSL runs come with the variants of :data:`TABLE_CSL_VARIANTS` (``losses=["csl"]``
    selects both)."""
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; choose one of: {', '.join(TARGETS)}")
    if target == "campaign":
        return campaign_runs(profile, seeds, datasets, losses, ratios)
    if target == "ablations":
        return [
            RunConfig(
                dataset=dataset,
                loss="csl",
                ratio=ratio,
                seed=seed,
                profile=profile,
                loss_options=options,
            )
            for seed in seeds
            for dataset, ratio in ABLATION_CELLS
            if (not datasets or dataset in datasets) and (not ratios or ratio in ratios)
            for options in CSL_ABLATIONS
            if not losses or "csl" in losses
        ]
    runs = []
    for seed in seeds:
        for dataset, ratio, cell_losses in TABLE_CELLS[target]:
            if (datasets and dataset not in datasets) or (ratios and ratio not in ratios):
                continue
            for loss in cell_losses:
                if losses and loss not in losses:
                    continue
                variants = TABLE_CSL_VARIANTS.get(target, ()) if loss == "csl" else ()
                runs += [
                    RunConfig(
                        dataset=dataset,
                        loss=loss,
                        ratio=ratio,
                        seed=seed,
                        profile=profile,
                        loss_options=dict(options),
                    )
                    for options in ({}, *variants)
                ]
    return runs


def campaign_runs(
    profile: str,
    seeds: Sequence[int] = (0,),
    datasets: Sequence[str] | None = None,
    losses: Sequence[str] | None = None,
    ratios: Sequence[float] | None = None,
) -> list[RunConfig]:
    """The CIFAR-10-LT runs of Tables 1-2 and the ablations, in the order a long campaign
    trains them: at IR 100 every method of :data:`CIFAR_BASELINES` and CSL's released reading,
    then the :data:`CAMPAIGN_ABLATIONS` at IR 100, then IR 50's methods and released reading
    (29 runs per seed). The filters work as for the other targets."""

    def csl_runs(ratio: float, variants: Sequence[dict[str, object]], seed: int) -> list[RunConfig]:
        return [
            RunConfig("cifar10", "csl", ratio, seed=seed, profile=profile, loss_options=dict(o))
            for o in variants
        ]

    runs = []
    for seed in seeds:
        for ratio in (100, 50):
            runs += [
                RunConfig("cifar10", loss, ratio, seed=seed, profile=profile)
                for loss in CIFAR_BASELINES
            ]
            runs += csl_runs(ratio, (RELEASED_READING,), seed)
            if ratio == 100:
                runs += csl_runs(ratio, CAMPAIGN_ABLATIONS, seed)
    return [
        run
        for run in runs
        if (not datasets or run.dataset in datasets)
        and (not losses or run.loss in losses)
        and (not ratios or run.ratio in ratios)
    ]

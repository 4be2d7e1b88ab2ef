"""The runs behind each of the paper's tables and figures, as lists of :class:`RunConfig`.

``python -m cslnb reproduce table2 --profile quick --seeds 0 1 2`` trains every cell of Table 2
whose record is missing (seed 0 of every cell first; ``--jobs N`` runs at once, see
:mod:`cslnb.train.batch`); interrupted runs resume from their checkpoints. Besides the tables and
figures, ``ablations`` trains the CSL variants of chapter 9 (:data:`CSL_ABLATIONS`) and
``released`` CSL's released reading on every CIFAR cell of Tables 1-2.
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
CIFAR10_EXTRA = ("weighted-softmax", "equalization")
"""Two losses of Table 3 (ImageNet-LT) that the paper does not run on CIFAR: extra rows of the
CIFAR-10-LT cells, so that they have a run on a dataset small enough for a CPU."""
CIFAR10_LOSSES = (*CIFAR_BASELINES, *CIFAR10_EXTRA)

TABLE_CELLS: dict[str, tuple[tuple[str, float, tuple[str, ...]], ...]] = {
    "table1": (("cifar10", 50, CIFAR10_LOSSES),),
    "table2": (
        ("cifar10", 100, CIFAR10_LOSSES),
        ("cifar10", 50, CIFAR10_LOSSES),
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
``released`` and ``ablations`` targets train the released reading)."""
CSL_SWITCHES: tuple[dict[str, object], ...] = (
    RELEASED_READING,
    {"use_gamma": False},
    {"use_npred": False},
    {"use_reinforcement": False},
    {"use_denominator": False},
    {"npred": "epoch"},
)
"""The released reading, and the paper reading with one term switched off (or N_pred counted
per epoch)."""
CSL_SCALE_SWEEP: tuple[dict[str, object], ...] = (
    {"scale": 0.1},
    {"scale": 0.01},
    {"scale": 0.001},
    {"batch_mean": True},
)
"""The paper reading with its additional term multiplied by λ = 0.1, 0.01, 0.001, or divided by
the batch size (``batch_mean``: 1/128 at batch 128). Switching off γ or N_pred shrinks the term
by orders of magnitude as well as changing what it points at; these runs change the size only."""
CSL_H_BY_PREDICTION: dict[str, object] = {"entropy_by": "prediction"}
"""The paper reading with H_i grouped by prediction (Algorithm 1's wording) instead of label."""
CSL_ABLATIONS: tuple[dict[str, object], ...] = (
    *CSL_SWITCHES,
    *CSL_SCALE_SWEEP,
    CSL_H_BY_PREDICTION,
)
"""CSL variants of the ablation chapter; the default CSL run (paper reading) is the reference."""
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
RELEASED_CELLS = tuple((dataset, ratio) for dataset, ratio, _ in TABLE_CELLS["table2"])
"""The cells of Tables 1-2, where CSL's released reading gets a row next to the paper reading
(the ``released`` target trains it there)."""
TARGETS = (*TABLE_CELLS, "ablations", "released", "campaign")


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
    if target in ("ablations", "released"):
        cells, variants = (
            (ABLATION_CELLS, CSL_ABLATIONS)
            if target == "ablations"
            else (RELEASED_CELLS, (RELEASED_READING,))
        )
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
            for dataset, ratio in cells
            if (not datasets or dataset in datasets) and (not ratios or ratio in ratios)
            for options in variants
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

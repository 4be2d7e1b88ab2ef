"""What the grader reads from each exercise: named answers, their plain types and how to check them.

The grader never runs the checks inside the student's kernel. After an exercise's cells have run,
each :class:`Answer` expression is evaluated there (held-out probe inputs drawn from a generator
seeded per grading session, so that no file holds them) and its value exported as plain data
(numbers, lists, strings; see :mod:`cslnb.teaching.export`). A separate, fresh process
(:mod:`cslnb.teaching.checker`) compares the export with the same export of the reference
solutions run in the same session: fixed expected values, never a call to the library function
the exercise asks the student to write. Training exercises export evidence instead of a value:
the losses the student's loop recorded and the trained model's loss and weights against its
initialisation (:func:`cslnb.teaching.export` ``training_evidence``).

``forbidden`` lists the identifiers whose use in the student's own lines of the exercise is a
library shortcut (the exercise asks for the thing itself): such an exercise scores 0.
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = {
    "float",
    "int",
    "str",
    "tensor",
    "list[int]",
    "list[float]",
    "list[str]",
    "dict[str,int]",
    "dict[str,float]",
    "evidence",
}
"""The plain types an answer may be asked to have (checked exactly: no subclasses)."""


@dataclass(frozen=True)
class Answer:
    """One exported answer: ``expression`` evaluated in the student's namespace.

    ``compare`` is ``"equal"`` (exact), ``"close"`` (``rtol``/``atol``, NumPy's rule) or ``"none"``
    (exported for another check, e.g. evidence). ``probe`` marks expressions that call the
    student's function on held-out inputs drawn from ``_g`` (a seeded ``torch.Generator``).
    ``dtype`` requires a tensor of that dtype (e.g. ``"torch.float64"``).
    """

    name: str
    expression: str
    kind: str
    compare: str = "close"
    rtol: float = 1e-7
    atol: float = 1e-9
    dtype: str | None = None
    words: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown answer kind {self.kind!r}")


@dataclass(frozen=True)
class ExerciseSpec:
    """One graded exercise: its points (by difficulty) and what is exported and checked.

    ``training`` names the model a training exercise trains (its evidence is checked);
    ``losses_fall`` also asks its recorded losses to fall (not under DRW, whose re-weighting
    raises the loss when it starts).
    """

    name: str
    points: float
    answers: tuple[Answer, ...]
    forbidden: tuple[str, ...] = ()
    training: str | None = None
    losses_fall: bool = True


_COUNTS = "[int(n) for n in torch.randint(1, 3000, (10,), generator=_g)]"
_AUTOGRAD = ("backward", "autograd", "requires_grad", "requires_grad_", "functorch", "jacobian")

EXERCISES: tuple[ExerciseSpec, ...] = (
    ExerciseSpec(
        "e01",
        1,
        (
            Answer("mu_200", "mu_200", "float", words="the per-class factor mu for IR 200"),
            Answer("counts_200", "counts_200", "list[int]", "equal", words="the 100 class sizes"),
            Answer("groups_200", "groups_200", "dict[str,int]", "equal", words="the shot groups"),
        ),
        forbidden=("cifar_lt_counts", "shot_groups"),
    ),
    ExerciseSpec(
        "e02",
        2,
        (
            Answer(
                "ce_grad(held-out batch)",
                "ce_grad(3 * torch.randn(29, 7, generator=_g, dtype=torch.float64),"
                " torch.randint(0, 7, (29,), generator=_g))",
                "tensor",
                words="ce_grad on a batch you have not seen",
            ),
            Answer("init_grad", "init_grad", "tensor", words="the summed gradient at zero logits"),
        ),
        forbidden=(*_AUTOGRAD, "cross_entropy", "log_softmax"),
    ),
    ExerciseSpec(
        "e03",
        2,
        (
            Answer("rho_e03", "rho_e03", "float", "none", words="the Spearman correlation"),
            Answer("class counts", "list(data_lt.class_counts)", "list[int]", "equal"),
            Answer(
                "fc weight norms",
                "model_e03.fc.weight.detach().norm(dim=1).cpu()",
                "tensor",
                "none",
            ),
            Answer("losses_e03", "losses_e03", "list[float]", "none", words="the loss per step"),
            Answer("steps", "len(loader_e03) * epochs_small", "int", "equal"),
            Answer("training evidence", "_training_evidence(model_e03)", "evidence", "none"),
        ),
        forbidden=("load_state_dict",),
        training="model_e03",
    ),
    ExerciseSpec(
        "e04",
        1,
        (
            Answer(
                "cb_weights(held-out counts, beta)",
                f"cb_weights({_COUNTS}, 0.99 + 0.0099 * torch.rand(1, generator=_g).item())",
                "tensor",
                rtol=1e-12,
                dtype="torch.float64",
                words="cb_weights on class counts you have not seen (float64)",
            ),
            Answer(
                "cb_weights(held-out counts, 0)",
                f"cb_weights({_COUNTS}, 0.0)",
                "tensor",
                rtol=1e-12,
                dtype="torch.float64",
            ),
        ),
        forbidden=("class_balanced_weights", "build_loss"),
    ),
    ExerciseSpec(
        "e05",
        1,
        (
            Answer(
                "margins_by_hand(held-out counts, max_margin)",
                "margins_by_hand(torch.randint(1, 5000, (15,), generator=_g),"
                " 0.1 + torch.rand(1, generator=_g).item())",
                "tensor",
                rtol=1e-6,
                words="margins for class counts you have not seen",
            ),
            Answer("margin_ratio", "margin_ratio", "float", rtol=1e-6),
        ),
        forbidden=("ldam_margins", "build_loss", "LDAMLoss"),
    ),
    ExerciseSpec(
        "e06",
        2,
        (
            Answer(
                "balanced_softmax_loss(held-out batch)",
                "float(balanced_softmax_loss(2 * torch.randn(40, 10, generator=_g),"
                f" torch.randint(0, 10, (40,), generator=_g), {_COUNTS}))",
                "float",
                rtol=1e-5,
                words="the loss on a batch and class counts you have not seen",
            ),
        ),
        forbidden=("build_loss", "BalancedSoftmaxLoss", "LogitAdjustedLoss"),
    ),
    ExerciseSpec(
        "e07",
        3,
        (
            Answer("S_e07", "S_e07", "tensor", rtol=1e-5, words="the semantic scales"),
            Answer("H_e07", "H_e07", "tensor", rtol=1e-5, words="the entropies"),
            Answer("gamma_e07", "gamma_e07", "tensor", rtol=1e-5, words="the class weights"),
        ),
        forbidden=("epoch_trace", "csl_e07", "CSLLoss"),
    ),
    ExerciseSpec(
        "e08",
        2,
        (
            Answer(
                "drw_weights(held-out schedule)",
                f"(lambda c: torch.stack([drw_weights(e, c, 4).double() for e in (0, 3, 4, 7)]))"
                f"({_COUNTS})",
                "tensor",
                rtol=1e-6,
                words="the schedule for class counts and a switch epoch you have not seen",
            ),
            Answer(
                "weights_used_e08",
                "torch.stack([w.double().cpu() for w in weights_used_e08])",
                "tensor",
                rtol=1e-6,
            ),
            Answer("losses_e08", "losses_e08", "list[float]", "none", words="the loss per step"),
            Answer("steps", "len(loader_e08) * epochs_small", "int", "equal"),
            Answer("training evidence", "_training_evidence(model_e08)", "evidence", "none"),
        ),
        forbidden=("build_loss", "DeferredReweighting", "load_state_dict"),
        training="model_e08",
        losses_fall=False,
    ),
    ExerciseSpec(
        "e09",
        3,
        (
            Answer(
                "csl_term_grad(held-out outputs)",
                "csl_term_grad(torch.randn(9, 6, generator=_g, dtype=torch.float64).softmax(dim=1),"
                " 3 * torch.rand(6, generator=_g, dtype=torch.float64))",
                "tensor",
                rtol=1e-6,
                atol=1e-9,
                words="the gradient for outputs and numerators you have not seen",
            ),
        ),
        forbidden=_AUTOGRAD,
    ),
    ExerciseSpec(
        "e10",
        2,
        (
            Answer("n_runs", "n_runs", "int", "equal"),
            Answer(
                "run ids of ablation_configs",
                "sorted(c.run_id for c in ablation_configs)",
                "list[str]",
                "equal",
                words="the runs of the ablation (dataset, loss, ratio, seeds and switches)",
            ),
            Answer("hours_quick", "hours_quick", "float", rtol=1e-6),
        ),
    ),
    ExerciseSpec(
        "e11",
        2,
        (
            Answer("seed_accs", "seed_accs", "list[float]", rtol=1e-12),
            Answer("seed_mean", "seed_mean", "float"),
            Answer("seed_std", "seed_std", "float"),
            Answer("seed_range", "seed_range", "float"),
        ),
    ),
    ExerciseSpec(
        "e12",
        2,
        (
            Answer("diff_means", "diff_means", "float"),
            Answer("verdict_e12", "verdict_e12", "str", "equal"),
        ),
        forbidden=("verdict",),
    ),
    ExerciseSpec(
        "e13",
        2,
        (
            Answer("drw_delta", "drw_delta", "list[float]"),
            Answer("drw_group_delta", "drw_group_delta", "dict[str,float]"),
        ),
    ),
)
"""The thirteen exercises of chapter 10. Points: ★ 1, ★★ 2, ★★★ 3 (the difficulty in its title)."""


def exercise_specs() -> dict[str, ExerciseSpec]:
    """:data:`EXERCISES` by name."""
    return {spec.name: spec for spec in EXERCISES}

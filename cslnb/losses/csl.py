r"""The cost-sensitive loss (CSL) of "Long tail classification through cost-sensitive loss
functions".

Paper, Equation 1 (CE plus the CSL term of Equation 2)::

    L = −Σ_i y_i log p_i + (1/C) Σ_{i=1}^{C} (γ_i · N_pred,i + r_i)² / (Σ_k (z_k − e_i)² + ε)

with C classes, ``N_pred,i`` the number of predictions of class i, ``r_i`` the reinforcement
term (a reward ±k, k = 2), ``z_k`` "the predicted value for the k-th data point", ``e_i`` the
one-hot vector of class i, and the class importance (Section 3, "DELTA function")::

    γ_i = S_i / ((1 + ε) · H_i · max_j S_j),     S_i = ((1/N_i) Σ_j ‖f_ij‖)²

(Algorithm 1, step 6, writes ``γ_i = S_i / (1e-6 + max(S) · H_i)``), where ``S_i``, the squared
mean norm of the features ``f_ij`` of class i's samples, is what the paper calls the semantic
scale and attributes to Ma et al. 2023. The formula is the CSL paper's own: Ma et al.'s semantic
scale measures the volume of a class's feature manifold, not its mean feature norm. ``H_i`` is
the "entropy gained from class i". Algorithm 1 recomputes all of this for every
mini-batch; the text says γ is "updated every epoch from the previous epoch's learning".

Two readings, selected by ``reading``:

* ``"paper"`` (default, :mod:`cslnb.losses.csl_paper`): features = pooled penultimate
  features; S, H, γ, r and the prediction frequencies are computed from the *training* batches
  of the previous epoch and held fixed during the current one; z_k = softmax probabilities;
  the denominator is summed over the batch's samples; ablation switches for each factor.
  Epoch 0 (no statistics yet): the additional term is exactly 0, the loss is plain CE.
* ``"released"`` (:mod:`cslnb.losses.csl_released`): the behaviour of the authors' released
  code, step for step (logit vectors as "features", a never-cleared store, a count-based
  "entropy", per-call reinforcement, raw logits in the denominator), with O(1) memory.

In both readings the numerator ``(γ_i · N_pred,i + r_i)²`` is a constant without gradient; the
additional term's only gradient flows through the denominator. Both readings compute in at
least float32 (fp16/bf16 logits under autocast are up-cast) and keep every piece of state in
fixed-size registered buffers, so ``state_dict()`` resumes a run exactly and memory does not
grow. **Every call of ``forward`` updates the statistics** — under ``torch.no_grad()`` and in
``eval()`` mode too: the trainer must call the loss on training batches only (it does; the
released notebooks also called it on validation batches, which changed their training state).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import torch

from cslnb.losses.base import LongTailLoss
from cslnb.losses.checks import check_batch
from cslnb.losses.csl_paper import PaperCSLState
from cslnb.losses.csl_released import ReleasedCSLState

READINGS = ("paper", "released")
NPRED_MODES = ("batch", "epoch")
ENTROPY_GROUPINGS = ("label", "prediction")
TRACE_KEYS = ("semantic_scale", "entropy", "gamma", "n_pred", "reinforcement")


class CSLLoss(LongTailLoss):
    """Cross-entropy plus the CSL term (paper Eq. 1–2, Algorithm 1).

    Args:
        class_counts: training samples per class (only the number of classes C is used).
        reading: ``"paper"`` (default) or ``"released"``; see the module docstring.
        k: the reinforcement reward, r_i ∈ {−k, 0, +k} (2 in the paper and the release).
        eps: ε of Eq. 1 and of the γ formula (1e-6 in the paper and the release).
        npred: paper reading only. ``"batch"``: N_pred,i = number of argmax predictions of
            class i in the current batch (Algorithm 1). ``"epoch"``: N_pred,i = B × the
            fraction of the previous epoch's training predictions that were class i.
        use_gamma: paper reading only; ``False`` sets γ_i = 1.
        use_npred: paper reading only; ``False`` sets N_pred,i = 1.
        use_reinforcement: paper reading only; ``False`` sets r_i = 0.
        use_denominator: paper reading only; ``False`` sets the denominator to 1 — the
            additional term then only shifts the loss value and has no gradient.
        scale: paper reading only; λ, a factor on the additional term (1 in the paper).
        batch_mean: paper reading only; ``True`` divides the additional term by the batch
            size B (N_pred,i and r_i as fractions of the batch, the denominator a mean over
            the batch), so that its size no longer grows with B.
        entropy_by: paper reading only; ``"label"`` (default) averages H_i over the samples
            labelled i, ``"prediction"`` over the samples predicted as i (Algorithm 1's
            wording; a class predicted for no sample gets H_i = ln C).

    ``forward(logits, labels, features)`` returns the scalar loss; the paper reading needs
    ``features`` (B × D pooled penultimate features), the released reading ignores them.

    ``epoch_trace()`` returns, for the last finished epoch, per-class lists ``semantic_scale``
    (S_i), ``entropy`` (H_i), ``gamma`` (γ_i), ``n_pred`` (total argmax predictions of class i
    over the epoch's training batches) and ``reinforcement`` (r_i). Paper reading: the
    statistics computed at the end of that epoch from its training batches (those used during
    the next epoch; r_i compares that epoch with the one before). Released reading: S, H, γ
    and r as computed at the last call of the epoch, with ``n_pred`` the epoch total. Empty
    before the first ``end_epoch``.
    """

    needs_features: ClassVar[bool] = True

    def __init__(
        self,
        class_counts: Sequence[int],
        *,
        reading: str = "paper",
        k: float = 2.0,
        eps: float = 1e-6,
        npred: str = "batch",
        use_gamma: bool = True,
        use_npred: bool = True,
        use_reinforcement: bool = True,
        use_denominator: bool = True,
        scale: float = 1.0,
        batch_mean: bool = False,
        entropy_by: str = "label",
    ) -> None:
        super().__init__(class_counts)
        if reading not in READINGS:
            raise ValueError(f"reading must be one of {READINGS}, got {reading!r}")
        if npred not in NPRED_MODES:
            raise ValueError(f"npred must be one of {NPRED_MODES}, got {npred!r}")
        if entropy_by not in ENTROPY_GROUPINGS:
            raise ValueError(f"entropy_by must be one of {ENTROPY_GROUPINGS}, got {entropy_by!r}")
        if eps <= 0:
            raise ValueError("eps must be positive")
        if scale <= 0:
            raise ValueError(f"scale must be positive, got {scale!r}")
        switches = (use_gamma, use_npred, use_reinforcement, use_denominator)
        paper_only = (npred == "batch", *switches, scale == 1.0, not batch_mean)
        if reading == "released" and not (all(paper_only) and entropy_by == "label"):
            raise ValueError(
                "npred, scale, batch_mean, entropy_by and the use_* ablation switches apply to "
                "reading='paper' only"
            )
        self.reading = reading
        self.k = float(k)
        self.eps = float(eps)
        self.npred = npred
        self.state: PaperCSLState | ReleasedCSLState
        if reading == "paper":
            self.state = PaperCSLState(
                self.num_classes,
                k=k,
                eps=eps,
                npred=npred,
                use_gamma=use_gamma,
                use_npred=use_npred,
                use_reinforcement=use_reinforcement,
                use_denominator=use_denominator,
                scale=scale,
                batch_mean=batch_mean,
                entropy_by=entropy_by,
            )
        else:
            self.state = ReleasedCSLState(self.num_classes, k=k, eps=eps)

    def extra_repr(self) -> str:
        return f"reading={self.reading!r}, k={self.k}, eps={self.eps}, npred={self.npred!r}"

    def forward(
        self, logits: torch.Tensor, labels: torch.Tensor, features: torch.Tensor | None = None
    ) -> torch.Tensor:
        check_batch(logits, labels, self.num_classes)
        # The whole computation runs outside autocast, in at least float32.
        with torch.autocast(device_type=logits.device.type, enabled=False):
            if isinstance(self.state, PaperCSLState):
                return self.state(logits, labels, features)
            return self.state(logits, labels)

    def start_epoch(self, epoch: int) -> None:
        """Start accumulating a fresh epoch (the previous epoch's statistics stay in use)."""
        self.state.start_epoch()

    def end_epoch(self, epoch: int) -> None:
        """Finish the epoch: compute the statistics for the next epoch and the trace."""
        self.state.end_epoch()

    def epoch_trace(self) -> dict[str, list[float]]:
        st = self.state
        if isinstance(st, PaperCSLState):
            if not bool(st.has_stats):
                return {}
            prefix = "stat_"
        else:
            if not bool(st.trace_valid):
                return {}
            prefix = "trace_"
        return {key: getattr(st, prefix + key).detach().cpu().tolist() for key in TRACE_KEYS}

"""The ``reading="released"`` CSL loss: the authors' released behaviour, with O(1) memory.

Per call, with (sanitised) logits ``z`` (B × C) and labels ``y`` (the eight steps of
``shared/reference/csl.md``):

1. NaN entries of ``z`` are replaced by 0; predictions ``k_b = argmax_c z_bc``.
2. "Feature storage": the logit vectors of the batch samples labelled ``i`` are added to a store
   of class ``i`` that is never cleared. Here the store is two running sums per class, the
   number of stored vectors ``n_i`` and the sum of their L2 norms ``Σ‖z‖``; they give exactly
   the mean norm of the never-cleared list (float64 sums, so they do not drift over a long run).
3. ``S_i = (Σ‖z‖ / n_i)²``, or 0 if nothing is stored for class ``i``.
4. "Entropy": ``m_i = #{b : k_b = i}``, ``H_i = −m_i · (1/B) · ln(1/B + 1e-6)`` (0 if m_i = 0).
5. ``γ_i = S_i / (ε + (max_j S_j + ε) · H_i)`` with ε = 1e-6 in the release.
6. ``N_i = m_i``; ``r_i = 0`` on the first call, afterwards ``−k`` if ``N_i`` exceeds the
   previous call's count, ``+k`` if it is smaller, 0 if equal (k = 2 in the release).
7. ``term_i = (γ_i · N_i + r_i)²`` (a constant: no gradient);
   ``denom_i = Σ_b Σ_c (z_bc − [c = i])² + ε`` over the raw logits of the whole batch.
8. ``loss = mean CE(z, y) + (1/C) Σ_i term_i / denom_i``; the previous counts become ``N``.

Differences from the release, all without effect on the values: O(1) memory instead of the
growing list; ``γ_i · N_i`` is set to exactly 0 when ``m_i = 0`` (the release gets 0 as
``γ_i · 0`` too, but ``S_i / ε`` could overflow for huge stored norms and give ``inf · 0``);
the state lives in buffers so ``state_dict()`` resumes it. As in the release, *every* call
changes the state (also under ``torch.no_grad()`` or ``eval()``): our trainer calls the loss on
training batches only, whereas the released notebooks also called it on validation batches.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from cslnb.losses.csl_common import (
    compute_dtype,
    one_hot_distance_sums,
    prediction_counts,
)

_STAT_NAMES = ("semantic_scale", "entropy", "gamma", "reinforcement")


class ReleasedCSLState(nn.Module):
    """Buffers and arithmetic of the released reading (used through ``CSLLoss``)."""

    def __init__(self, num_classes: int, k: float, eps: float) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.k = float(k)
        self.eps = float(eps)
        c = num_classes
        f64 = torch.float64
        # Step 2 store, as running sums (same means as the never-cleared list).
        self.register_buffer("store_count", torch.zeros(c, dtype=f64))
        self.register_buffer("store_norm_sum", torch.zeros(c, dtype=f64))
        # Step 6: the previous call's counts.
        self.register_buffer("prev_counts", torch.zeros(c, dtype=f64))
        self.register_buffer("has_prev", torch.zeros((), dtype=torch.bool))
        # Trace: values at the last call of the running epoch, and its prediction totals.
        for name in _STAT_NAMES:
            self.register_buffer(f"last_{name}", torch.zeros(c, dtype=f64))
        self.register_buffer("epoch_n_pred", torch.zeros(c, dtype=f64))
        for name in (*_STAT_NAMES, "n_pred"):
            self.register_buffer(f"trace_{name}", torch.zeros(c, dtype=f64))
        self.register_buffer("trace_valid", torch.zeros((), dtype=torch.bool))

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        dtype = compute_dtype(logits)
        z = logits.to(dtype)
        z = torch.where(torch.isnan(z), torch.zeros_like(z), z)  # step 1
        batch, c = z.shape
        labels = labels.long()
        ce = F.cross_entropy(z, labels)

        with torch.no_grad():
            zd = z.detach()
            preds = zd.argmax(dim=1)
            m = prediction_counts(preds, c)
            # Steps 2-3.
            norms = torch.linalg.vector_norm(zd, dim=1).to(torch.float64)
            self.store_norm_sum.index_add_(0, labels, norms)
            self.store_count.index_add_(0, labels, torch.ones_like(norms))
            filled = self.store_count > 0
            mean_norm = self.store_norm_sum / self.store_count.clamp_min(1.0)
            s = torch.where(filled, mean_norm**2, torch.zeros_like(mean_norm)).to(dtype)
            # Step 4.
            per_prediction = -(1.0 / batch) * math.log(1.0 / batch + 1e-6)
            h = m.to(dtype) * per_prediction
            # Step 5.
            gamma = s / (self.eps + (s.max() + self.eps) * h)
            # Step 6.
            n = m.to(dtype)
            prev = self.prev_counts.to(dtype)
            r = self.k * ((n < prev).to(dtype) - (n > prev).to(dtype))
            r = torch.where(self.has_prev, r, torch.zeros_like(r))
            # Step 7 numerator (constant).
            gamma_n = torch.where(m > 0, gamma * n, torch.zeros_like(gamma))
            term = (gamma_n + r) ** 2
            # State updates (step 8's "previous counts", and the trace).
            self.prev_counts.copy_(m)
            self.has_prev.fill_(True)
            self.epoch_n_pred.add_(m)
            for name, value in zip(_STAT_NAMES, (s, h, gamma, r), strict=True):
                getattr(self, f"last_{name}").copy_(value)

        denom = one_hot_distance_sums(z) + self.eps  # step 7, gradient flows here only
        return ce + (term / denom).sum() / c  # step 8

    @torch.no_grad()
    def start_epoch(self) -> None:
        self.epoch_n_pred.zero_()

    @torch.no_grad()
    def end_epoch(self) -> None:
        for name in _STAT_NAMES:
            getattr(self, f"trace_{name}").copy_(getattr(self, f"last_{name}"))
        self.trace_n_pred.copy_(self.epoch_n_pred)
        self.trace_valid.fill_(True)
        self.epoch_n_pred.zero_()

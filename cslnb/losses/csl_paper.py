"""The ``reading="paper"`` CSL loss (the default): Equations 1–2 and Algorithm 1 of the paper.

For a training batch of B samples with logits ``z`` (B × C), probabilities
``p_b = softmax(z_b)``, labels ``y`` and pooled penultimate features ``f`` (B × D)::

    L = (1/B) Σ_b CE(y_b, p_b)  +  (1/C) Σ_i (γ_i · N_pred,i + r_i)² / (Σ_b Σ_c (p_bc − e_i,c)² + ε)

* **Statistics of epoch t drive epoch t+1.** During epoch t every call adds, per class ``i``
  (grouped by the *label*), the L2 norms ``‖f_ij‖`` of its features, the Shannon entropies
  ``−Σ_c p_jc ln p_jc`` of its softmax, its number of samples ``N_i``, and the number of
  argmax predictions of each class. ``end_epoch(t)`` turns them into

  - ``S_i = ((1/N_i) Σ_j ‖f_ij‖)²``, the squared mean feature norm (the CSL paper's formula;
    the paper names it semantic scale after Ma et al. 2023, whose semantic scale is a
    different measure, the volume of a class's feature manifold),
  - ``H_i = (1/N_i) Σ_j H(p_j)`` (mean entropy: low for an easy class, high for a hard one),
  - ``γ_i = S_i / ((1 + ε) · H_i · max_j S_j)`` (the text's formula; Algorithm 1 writes
    ``S_i / (1e-6 + max(S) · H_i)``, practically the same),
  - ``r_i = −k`` if class i's prediction frequency (predictions / samples of the epoch; the
    raw count when epochs have equal length) rose compared with epoch t−1, ``+k`` if it fell,
    0 if equal or if there is no epoch t−1,

  which stay fixed during epoch t+1. Guards: a class with no training sample in the epoch gets
  ``S_i = H_i = γ_i = 0``; ``γ = 0`` for every class if ``max_j S_j = 0``; ``H_i`` is floored at
  ε in γ's denominator (a perfectly confident class gets a large but finite γ). Samples whose
  logits or features are not finite are left out of the statistics.
* **N_pred,i**: ``npred="batch"`` (Algorithm 1) counts the argmax predictions of class i in the
  current batch; ``npred="epoch"`` uses the previous epoch's predicted frequency scaled to the
  batch, ``B · (#predictions of i in epoch t−1) / (#samples in epoch t−1)``.
* **Numerator and gradient.** ``(γ_i · N_pred,i + r_i)²`` is a constant (argmax counts and
  statistics carry no gradient); the only gradient of the additional term flows through the
  denominator ``Σ_b Σ_c (p_bc − [c = i])² + ε``, summed over the batch's samples b and classes c.
* **Epoch 0**: until ``end_epoch`` has been called once there are no statistics, and the
  additional term is exactly 0 (the loss is plain CE), whatever the ablation switches.
* **Ablations** (each replaces one factor, everything else unchanged): ``use_gamma=False`` →
  γ_i = 1; ``use_npred=False`` → N_pred,i = 1; ``use_reinforcement=False`` → r_i = 0;
  ``use_denominator=False`` → denominator = 1, so the additional term is a constant that only
  shifts the loss value and contributes no gradient at all.
* **Size of the term** (chapter 9's scale sweep): ``scale=λ`` multiplies the additional term by
  λ (default 1). ``batch_mean=True`` divides it by the batch size B, which is the same as
  counting N_pred,i and r_i as fractions of the batch and taking the *mean* squared distance
  over the batch in the denominator: ``((γ_i N_pred,i + r_i)/B)² / ((1/B) Σ_b Σ_c (p_bc −
  e_i,c)²)`` (up to ε). The numerator grows like B² and the denominator like B, so without
  it the term's gradient per sample is about B times cross-entropy's (whose batch mean gives
  each sample a weight 1/B); with it the term no longer depends on the batch size.
* **Grouping of H_i**: ``entropy_by="label"`` (default) averages the entropy over the samples
  *labelled* i; ``entropy_by="prediction"`` over the samples *predicted* as i (Algorithm 1:
  "based on their predictions"). A class predicted for no sample of the epoch then has no
  entropy to average; it gets ``H_i = ln C``, the entropy of a uniform guess (our choice: the
  network is not confident about a class it never predicts). S_i stays grouped by label.

Ambiguities of the paper and the choices made here: the paper defines N_pred,i as the number
of predictions "during its validation in this epoch" while Algorithm 1 counts them per
mini-batch (both offered, training batches only); ``f_ij`` are "features" (penultimate pooled
features here; the release used logits); ``H_i`` is "entropy gained from class i" (mean
softmax entropy over the samples *labelled* i here; Algorithm 1 says "based on their
predictions"); ``z_k`` is "the predicted value for the k-th data point" (softmax probabilities,
summed over the batch's samples); the reward k is compared between whole epochs.
"""

from __future__ import annotations

import math

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from cslnb.losses.checks import check_features
from cslnb.losses.csl_common import (
    compute_dtype,
    one_hot_distance_sums,
    prediction_counts,
)

_STAT_NAMES = ("semantic_scale", "entropy", "gamma", "reinforcement")


class PaperCSLState(nn.Module):
    """Buffers and arithmetic of the paper reading (used through ``CSLLoss``)."""

    def __init__(
        self,
        num_classes: int,
        *,
        k: float,
        eps: float,
        npred: str,
        use_gamma: bool,
        use_npred: bool,
        use_reinforcement: bool,
        use_denominator: bool,
        scale: float = 1.0,
        batch_mean: bool = False,
        entropy_by: str = "label",
    ) -> None:
        super().__init__()
        self.scale = float(scale)
        self.batch_mean = batch_mean
        self.entropy_by = entropy_by
        self.num_classes = num_classes
        self.k = float(k)
        self.eps = float(eps)
        self.npred = npred
        self.use_gamma = use_gamma
        self.use_npred = use_npred
        self.use_reinforcement = use_reinforcement
        self.use_denominator = use_denominator
        c = num_classes
        f64 = torch.float64
        # Running sums of the current epoch.
        self.register_buffer("acc_count", torch.zeros(c, dtype=f64))
        self.register_buffer("acc_norm_sum", torch.zeros(c, dtype=f64))
        self.register_buffer("acc_entropy_sum", torch.zeros(c, dtype=f64))
        self.register_buffer("acc_pred", torch.zeros(c, dtype=f64))
        self.register_buffer("acc_samples", torch.zeros((), dtype=f64))
        # Statistics of the previous finished epoch, used by the current one (and the trace).
        for name in _STAT_NAMES:
            self.register_buffer(f"stat_{name}", torch.zeros(c, dtype=f64))
        self.register_buffer("stat_n_pred", torch.zeros(c, dtype=f64))
        self.register_buffer("stat_pred_freq", torch.zeros(c, dtype=f64))
        self.register_buffer("has_stats", torch.zeros((), dtype=torch.bool))

    def forward(
        self, logits: torch.Tensor, labels: torch.Tensor, features: torch.Tensor | None
    ) -> torch.Tensor:
        features = check_features(features, logits.shape[0])
        dtype = compute_dtype(logits)
        z = logits.to(dtype)
        batch, c = z.shape
        labels = labels.long()
        ce = F.cross_entropy(z, labels)
        log_p = F.log_softmax(z, dim=1)
        p = log_p.exp()

        with torch.no_grad():
            self._accumulate(p.detach(), log_p.detach(), labels, features.detach())
            numerator = self.numerator(p.detach(), batch).to(dtype)

        if self.use_denominator:
            denom = one_hot_distance_sums(p) + self.eps
        else:
            denom = torch.ones(c, dtype=dtype, device=z.device)
        extra = (numerator / denom).sum() / c * self.scale
        if self.batch_mean:
            extra = extra / batch
        extra = torch.where(self.has_stats, extra, torch.zeros_like(extra))
        return ce + extra

    def _accumulate(
        self, p: torch.Tensor, log_p: torch.Tensor, labels: torch.Tensor, features: torch.Tensor
    ) -> None:
        f = features.to(compute_dtype(features))
        valid = torch.isfinite(p).all(dim=1) & torch.isfinite(f).all(dim=1)
        w = valid.to(torch.float64)
        entropy = -(p * log_p).sum(dim=1).to(torch.float64)
        norms = torch.linalg.vector_norm(f, dim=1).to(torch.float64)
        zero = torch.zeros((), dtype=torch.float64, device=w.device)
        self.acc_count.index_add_(0, labels, w)
        self.acc_norm_sum.index_add_(0, labels, torch.where(valid, norms, zero))
        predicted = p.argmax(dim=1)
        entropy_groups = labels if self.entropy_by == "label" else predicted
        self.acc_entropy_sum.index_add_(0, entropy_groups, torch.where(valid, entropy, zero))
        self.acc_pred.index_add_(0, predicted, w)
        self.acc_samples.add_(w.sum())

    def numerator(self, p: torch.Tensor, batch: int) -> torch.Tensor:
        """``(γ_i · N_pred,i + r_i)²`` in float64, shape (C,)."""
        c = self.num_classes
        ones = torch.ones(c, dtype=torch.float64, device=p.device)
        gamma = self.stat_gamma if self.use_gamma else ones
        if not self.use_npred:
            n_pred = ones
        elif self.npred == "batch":
            n_pred = prediction_counts(p.argmax(dim=1), c)
        else:
            n_pred = batch * self.stat_pred_freq
        r = self.stat_reinforcement if self.use_reinforcement else torch.zeros_like(ones)
        return (gamma * n_pred + r) ** 2

    @torch.no_grad()
    def start_epoch(self) -> None:
        for buf in (
            self.acc_count,
            self.acc_norm_sum,
            self.acc_entropy_sum,
            self.acc_pred,
            self.acc_samples,
        ):
            buf.zero_()

    def _sum_across_processes(self) -> None:
        if not (dist.is_available() and dist.is_initialized()):
            return
        sums = (self.acc_count, self.acc_norm_sum, self.acc_entropy_sum, self.acc_pred)
        packed = torch.cat([*sums, self.acc_samples.view(1)])
        dist.all_reduce(packed)
        for buf, total in zip(sums, packed[:-1].split(self.num_classes), strict=True):
            buf.copy_(total)
        self.acc_samples.copy_(packed[-1])

    @torch.no_grad()
    def end_epoch(self) -> None:
        """Turn the epoch's running sums into the statistics of the next epoch.

        An epoch without any (finite) training sample leaves the statistics unchanged. This
        method reads one scalar from the device (once per epoch). Under ``torchrun`` the running
        sums are first added up across processes, so every rank derives the same statistics
        from all of the epoch's training batches.
        """
        self._sum_across_processes()
        if float(self.acc_samples) <= 0:
            self.start_epoch()
            return
        eps = self.eps
        count = self.acc_count
        present = count > 0
        zero = torch.zeros_like(count)
        safe = count.clamp_min(1.0)
        s = torch.where(present, (self.acc_norm_sum / safe) ** 2, zero)
        if self.entropy_by == "label":
            h = torch.where(present, self.acc_entropy_sum / safe, zero)
        else:
            predicted = self.acc_pred > 0
            uniform = torch.full_like(count, math.log(self.num_classes))
            h_pred = self.acc_entropy_sum / self.acc_pred.clamp_min(1.0)
            h = torch.where(present, torch.where(predicted, h_pred, uniform), zero)
        s_max = s.max()
        ok = present & (s_max > 0)
        gamma_den = (1.0 + eps) * h.clamp_min(eps) * torch.where(s_max > 0, s_max, 1.0)
        gamma = torch.where(ok, s / gamma_den, zero)
        freq = self.acc_pred / self.acc_samples
        prev = self.stat_pred_freq
        r = self.k * ((freq < prev).double() - (freq > prev).double())
        r = torch.where(self.has_stats, r, zero)

        self.stat_semantic_scale.copy_(s)
        self.stat_entropy.copy_(h)
        self.stat_gamma.copy_(gamma)
        self.stat_reinforcement.copy_(r)
        self.stat_n_pred.copy_(self.acc_pred)
        self.stat_pred_freq.copy_(freq)
        self.has_stats.fill_(True)
        self.start_epoch()

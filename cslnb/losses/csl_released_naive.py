"""A naive reference of the released CSL behaviour: the eight steps of ``csl.md``, as written.

:class:`NaiveReleasedCSL` transcribes the released behaviour step by step, in the same way as
the authors' code works: the logit vector of every sample ever seen is appended to a Python
list per class that is never cleared, and the whole list is re-read on every call. Its memory
therefore grows by ``B × C`` numbers per call and its time per call grows with the number of
calls made so far. It is not a training loss (no ``LongTailLoss`` interface, no state dict);
it exists to check :class:`~cslnb.losses.csl.CSLLoss` ``(reading="released")`` — which gives
the same values with O(1) memory — and to measure the difference (``python -m cslnb bench``).

Per call, with logits ``z`` (B × C) and labels ``y``:

1. NaN entries of ``z`` are replaced by 0; predictions ``k_b = argmax_c z_bc``.
2. The logit vector of each sample is appended to the never-cleared list of its label.
3. ``S_i = (mean L2 norm of all stored vectors of class i)²``, or 0 if none is stored.
4. ``H_i = Σ_{b : k_b = i} −(1/B) · ln(1/B + 1e-6)`` (0 if class i is never predicted).
5. ``γ_i = S_i / (ε + (max_j S_j + ε) · H_i)``.
6. ``N_i = #{b : k_b = i}``; ``r_i = 0`` on the first call, afterwards ``−k`` if ``N_i`` exceeds
   the previous call's count, ``+k`` if it is smaller, 0 if equal.
7. ``term_i = (γ_i · N_i + r_i)²`` (a Python float: no gradient);
   ``denom_i = Σ_b Σ_c (z_bc − [c = i])² + ε`` over the whole batch.
8. ``loss = mean CE(z, y) + (1/C) Σ_i term_i / denom_i``; the counts ``N`` become the previous
   counts.

Constants are Python floats (float64), the release's ``k = 2`` and ``ε = 1e-6`` by default.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

RELEASED_K = 2.0
RELEASED_EPS = 1e-6


class NaiveReleasedCSL:
    """Direct, slow transcription of the released CSL loss (see the module docstring).

    ``store[i]`` is the never-cleared list of the logit vectors stored for class ``i``;
    ``history_bytes()`` is the memory they hold.
    """

    def __init__(self, num_classes: int, k: float = RELEASED_K, eps: float = RELEASED_EPS) -> None:
        self.num_classes = num_classes
        self.k = float(k)
        self.eps = float(eps)
        self.store: list[list[torch.Tensor]] = [[] for _ in range(num_classes)]
        self.prev_counts: list[int] | None = None

    def __call__(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The released loss of one batch; appends the batch to the stored history."""
        c = self.num_classes
        # 1. NaN -> 0, predictions.
        z = logits.clone()
        z[torch.isnan(z)] = 0.0
        batch = z.shape[0]
        preds = [int(v) for v in z.argmax(dim=1)]
        ce = F.cross_entropy(z, labels)
        # 2. Append the logit vectors to a never-cleared list per class.
        for b in range(batch):
            self.store[int(labels[b])].append(z[b].detach().clone())
        # 3. Semantic scale, re-reading the whole stored history.
        s = [self._semantic_scale(i) for i in range(c)]
        # 4. Count-based "entropy".
        h = [0.0] * c
        for b in range(batch):
            h[preds[b]] += -(1.0 / batch) * math.log(1.0 / batch + 1e-6)
        # 5. Gamma.
        s_max = max(s)
        gamma = [s[i] / (self.eps + (s_max + self.eps) * h[i]) for i in range(c)]
        # 6. Counts and reinforcement.
        counts = [preds.count(i) for i in range(c)]
        r = self._reinforcement(counts)
        # 7-8. Additional term over the raw logits of the batch.
        extra = torch.zeros((), dtype=z.dtype, device=z.device)
        for i in range(c):
            term = (gamma[i] * counts[i] + r[i]) ** 2
            e = torch.zeros(c, dtype=z.dtype, device=z.device)
            e[i] = 1.0
            denom = ((z - e) ** 2).sum() + self.eps
            extra = extra + term / denom
        self.prev_counts = counts
        return ce + extra / c

    def _semantic_scale(self, i: int) -> float:
        """Step 3 for class ``i``: squared mean L2 norm of every vector stored so far."""
        if not self.store[i]:
            return 0.0
        stored = torch.stack(self.store[i]).double()
        return float(torch.linalg.vector_norm(stored, dim=1).mean()) ** 2

    def _reinforcement(self, counts: list[int]) -> list[float]:
        """Step 6: ``−k`` / ``+k`` / 0 per class against the previous call's counts."""
        if self.prev_counts is None:
            return [0.0] * self.num_classes
        r = []
        for now, before in zip(counts, self.prev_counts, strict=True):
            if now > before:
                r.append(-self.k)
            elif now < before:
                r.append(self.k)
            else:
                r.append(0.0)
        return r

    def history_bytes(self) -> int:
        """Bytes held by the stored logit vectors (grows with every call)."""
        return sum(v.numel() * v.element_size() for vectors in self.store for v in vectors)

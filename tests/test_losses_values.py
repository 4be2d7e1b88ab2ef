"""Loss values, weights and gradients against hand computations on small tensors."""

from __future__ import annotations

import math

import pytest
import torch

from cslnb.losses import (
    BalancedSoftmaxLoss,
    ClassWeights,
    CrossEntropyLoss,
    DeferredReweighting,
    EqualizationLoss,
    FocalLoss,
    InfluenceBalancedLoss,
    LDAMLoss,
    LogitAdjustedLoss,
    WeightedSoftmaxLoss,
    build_loss,
    class_balanced_weights,
    inverse_frequency_weights,
    ldam_margins,
    weighted_softmax_weights,
)
from cslnb.losses.equalization import SUPPRESSED_LOGIT, equalization_keep_mask
from cslnb.losses.influence_balanced import influence_factor

# float(loss) on a graph-attached scalar is fine here; torch warns about it.
pytestmark = pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad")

Z = [[1.0, 2.0, 3.0], [1.0, 0.0, -1.0]]
Y = [2, 0]


def ce_by_hand(row: list[float], label: int) -> float:
    return math.log(sum(math.exp(v) for v in row)) - row[label]


def softmax_by_hand(row: list[float]) -> list[float]:
    total = sum(math.exp(v) for v in row)
    return [math.exp(v) / total for v in row]


def tensors(z=Z, y=Y):
    return torch.tensor(z, requires_grad=True), torch.tensor(y)


def test_ce_value():
    z, y = tensors()
    expected = (math.log(1 + math.exp(-1) + math.exp(-2)) * 2) / 2
    assert float(CrossEntropyLoss([3, 2, 1])(z, y)) == pytest.approx(expected, rel=1e-6)


def test_weighted_ce_is_torch_weighted_mean():
    z, y = tensors()
    w = [0.5, 1.0, 2.0]
    loss = CrossEntropyLoss([3, 2, 1], ClassWeights(torch.tensor(w)))(z, y)
    ces = [ce_by_hand(Z[0], 2), ce_by_hand(Z[1], 0)]
    expected = (w[2] * ces[0] + w[0] * ces[1]) / (w[2] + w[0])
    assert float(loss) == pytest.approx(expected, rel=1e-6)


def test_focal_value():
    z, y = tensors()
    ces = [ce_by_hand(Z[0], 2), ce_by_hand(Z[1], 0)]
    gamma2 = sum((1 - math.exp(-c)) ** 2 * c for c in ces) / 2
    gamma1 = sum((1 - math.exp(-c)) * c for c in ces) / 2
    assert float(FocalLoss([3, 2, 1])(z, y)) == pytest.approx(gamma1, rel=1e-6)
    assert float(FocalLoss([3, 2, 1], gamma=2.0)(z, y)) == pytest.approx(gamma2, rel=1e-6)
    w = [0.5, 1.0, 2.0]
    weighted = FocalLoss([3, 2, 1], ClassWeights(torch.tensor(w)))(z, y)
    wces = [w[2] * ces[0], w[0] * ces[1]]
    expected = sum((1 - math.exp(-c)) * c for c in wces) / 2  # plain mean over the batch
    assert float(weighted) == pytest.approx(expected, rel=1e-6)


def test_class_balanced_weights_by_hand():
    beta = 0.9999
    raw = [(1 - beta) / (1 - beta**n) for n in (100, 10, 1)]
    expected = [3 * r / sum(raw) for r in raw]
    w = class_balanced_weights([100, 10, 1], beta)
    torch.testing.assert_close(w, torch.tensor(expected), rtol=1e-6, atol=0)
    assert float(w.sum()) == pytest.approx(3.0)


def test_inverse_frequency_weights_and_empty_classes():
    torch.testing.assert_close(
        inverse_frequency_weights([30, 10]), torch.tensor([0.5, 1.5]), rtol=1e-6, atol=0
    )
    w = class_balanced_weights([100, 0, 1])
    assert float(w[1]) == 0.0
    assert float(w.sum()) == pytest.approx(3.0)
    assert bool(torch.isfinite(inverse_frequency_weights([5, 0, 1])).all())
    with pytest.raises(ValueError, match="beta"):
        class_balanced_weights([1, 2], beta=1.0)


def test_ldam_margins():
    m = ldam_margins(torch.tensor([10000.0, 16.0, 1.0, 625.0]))
    torch.testing.assert_close(m, torch.tensor([0.05, 0.25, 0.5, 0.1]))
    m = ldam_margins(torch.tensor([500.0, 37.0, 8.0]))
    assert float(m.max()) == 0.5
    assert float(m[0] / m[1]) == pytest.approx((37 / 500) ** 0.25, rel=1e-6)
    empty = ldam_margins(torch.tensor([16.0, 0.0, 1.0]))
    torch.testing.assert_close(empty, torch.tensor([0.25, 0.5, 0.5]))


def test_ldam_value_and_gradient():
    counts = [10000, 16, 1]
    z = torch.tensor([[0.2, -0.1, 0.4], [0.3, 0.1, -0.2]], requires_grad=True)
    y = torch.tensor([1, 0])
    loss = LDAMLoss(counts)(z, y)
    row0 = [30 * 0.2, 30 * (-0.1 - 0.25), 30 * 0.4]
    row1 = [30 * (0.3 - 0.05), 30 * 0.1, 30 * (-0.2)]
    expected = (ce_by_hand(row0, 1) + ce_by_hand(row1, 0)) / 2
    assert float(loss) == pytest.approx(expected, rel=1e-5)
    loss.backward()
    p0, p1 = softmax_by_hand(row0), softmax_by_hand(row1)
    # Non-target logits: d/dz_j = s * softmax_j / B; target: s * (softmax_y - 1) / B.
    expected_grad = [
        [30 * p0[0] / 2, 30 * (p0[1] - 1) / 2, 30 * p0[2] / 2],
        [30 * (p1[0] - 1) / 2, 30 * p1[1] / 2, 30 * p1[2] / 2],
    ]
    torch.testing.assert_close(z.grad, torch.tensor(expected_grad), rtol=1e-4, atol=1e-6)
    assert LDAMLoss.needs_cosine_head


def test_drw_switches_exactly_at_drw_epoch_and_resumes():
    counts = [100, 10, 1]
    cb = class_balanced_weights(counts)
    loss = build_loss("ldam-drw", counts, drw_epoch=160)
    loss.start_epoch(159)
    torch.testing.assert_close(loss.class_weight, torch.ones(3))
    loss.start_epoch(160)
    torch.testing.assert_close(loss.class_weight, cb)
    state = loss.state_dict()
    torch.testing.assert_close(state["weighting.weight"], cb)
    resumed = build_loss("ldam-drw", counts, drw_epoch=160)
    resumed.load_state_dict(state)
    torch.testing.assert_close(resumed.class_weight, cb)
    resumed.start_epoch(170)
    torch.testing.assert_close(resumed.class_weight, cb)


def test_drw_is_reusable_with_ce():
    drw = DeferredReweighting([100, 10, 1], drw_epoch=1)
    loss = CrossEntropyLoss([100, 10, 1], drw)
    z, y = tensors()
    loss.start_epoch(0)
    before = float(loss(z, y))
    loss.start_epoch(1)
    after = float(loss(z, y))
    w = class_balanced_weights([100, 10, 1]).tolist()
    ces = [ce_by_hand(Z[0], 2), ce_by_hand(Z[1], 0)]
    assert before == pytest.approx(sum(ces) / 2, rel=1e-6)
    assert after == pytest.approx((w[2] * ces[0] + w[0] * ces[1]) / (w[2] + w[0]), rel=1e-6)


def test_influence_factor_by_hand():
    z = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    y = torch.tensor([0, 0])
    h = torch.tensor([[1.0, -2.0, 3.0], [0.5, 0.5, 0.0]])
    sig = 1 / (1 + math.exp(-2))
    p1 = softmax_by_hand([0.0, 1.0])
    g = [2 * (1 - sig), (1 - p1[0]) + p1[1]]
    expected = [1000 / (g[0] * 6 + 0.001), 1000 / (g[1] * 1 + 0.001)]
    torch.testing.assert_close(
        influence_factor(z, y, h, 1000.0), torch.tensor(expected), rtol=1e-6, atol=0
    )


def test_ib_is_ce_before_start_then_influence_weighted():
    counts = [30, 10]
    z = torch.tensor([[2.0, 0.0], [0.0, 1.0]], requires_grad=True)
    y = torch.tensor([0, 1])
    h = torch.tensor([[1.0, -2.0, 3.0], [0.5, 0.5, 0.0]])
    loss = build_loss("ib", counts, ib_start_epoch=100, detach_influence=True)
    assert loss.needs_features
    ces = [ce_by_hand([2.0, 0.0], 0), ce_by_hand([0.0, 1.0], 1)]
    loss.start_epoch(99)
    assert float(loss(z, y)) == pytest.approx(sum(ces) / 2, rel=1e-6)  # features not needed
    loss.start_epoch(100)
    with pytest.raises(ValueError, match="features"):
        loss(z, y)
    w = [0.5, 1.5]  # 1/n normalised to sum C
    p0, p1 = softmax_by_hand([2.0, 0.0]), softmax_by_hand([0.0, 1.0])
    ib = [1000 / (2 * (1 - p0[0]) * 6 + 0.001), 1000 / (2 * (1 - p1[1]) * 1 + 0.001)]
    value = loss(z, y, h)
    expected = (w[0] * ces[0] * ib[0] + w[1] * ces[1] * ib[1]) / 2
    assert float(value) == pytest.approx(expected, rel=1e-5)
    value.backward()
    # Detached influence: the gradient is that of CE scaled by the per-sample weight w_y * ib / B.
    expected_grad = [
        [w[0] * ib[0] * (p0[0] - 1) / 2, w[0] * ib[0] * p0[1] / 2],
        [w[1] * ib[1] * p1[0] / 2, w[1] * ib[1] * (p1[1] - 1) / 2],
    ]
    torch.testing.assert_close(z.grad, torch.tensor(expected_grad), rtol=1e-4, atol=1e-4)


def test_ib_focal_and_undetached_variant():
    counts = [30, 10]
    z = torch.tensor([[2.0, 0.0]])
    y = torch.tensor([0])
    h = torch.tensor([[1.0, 1.0]])
    loss = build_loss("ib-focal", counts, ib_start_epoch=0)
    loss.start_epoch(0)
    ce = 0.5 * ce_by_hand([2.0, 0.0], 0)
    ib = 1000 / (2 * (1 - softmax_by_hand([2.0, 0.0])[0]) * 2 + 0.001)
    expected = (1 - math.exp(-ce)) * ce * ib
    assert float(loss(z, y, h)) == pytest.approx(expected, rel=1e-5)
    attached = InfluenceBalancedLoss(counts, ib_start_epoch=0)  # the reference's default
    attached.start_epoch(0)
    h = h.clone().requires_grad_(True)
    attached(z, y, h).backward()
    assert float(h.grad.abs().sum()) > 0
    detached = InfluenceBalancedLoss(counts, ib_start_epoch=0, detach_influence=True)
    detached.start_epoch(0)
    h2 = h.detach().clone().requires_grad_(True)
    detached(z.clone().requires_grad_(True), y, h2).backward()
    assert h2.grad is None or float(h2.grad.abs().sum()) == 0


def test_balanced_softmax_and_logit_adjustment():
    counts = [4, 2, 1]
    z, y = tensors()
    shifted = [[v + math.log(n) for v, n in zip(row, counts, strict=True)] for row in Z]
    expected = (ce_by_hand(shifted[0], 2) + ce_by_hand(shifted[1], 0)) / 2
    assert float(BalancedSoftmaxLoss(counts)(z, y)) == pytest.approx(expected, rel=1e-6)
    assert float(LogitAdjustedLoss(counts)(z, y)) == pytest.approx(expected, rel=1e-6)
    half = [[v + 0.5 * math.log(n / 7) for v, n in zip(row, counts, strict=True)] for row in Z]
    expected_half = (ce_by_hand(half[0], 2) + ce_by_hand(half[1], 0)) / 2
    assert float(LogitAdjustedLoss(counts, tau=0.5)(z, y)) == pytest.approx(expected_half)


def test_weighted_softmax_weights_by_hand():
    w = weighted_softmax_weights([100, 10, 1])
    expected = [1.0, 1 + math.log(10), 1 + math.log(100)]
    torch.testing.assert_close(w, torch.tensor(expected), rtol=1e-6, atol=0)
    z, y = tensors()
    ces = [ce_by_hand(Z[0], 2), ce_by_hand(Z[1], 0)]
    value = WeightedSoftmaxLoss([100, 10, 1])(z, y)
    exp_value = (expected[2] * ces[0] + expected[0] * ces[1]) / (expected[2] + expected[0])
    assert float(value) == pytest.approx(exp_value, rel=1e-6)


def test_equalization_mask_with_given_u():
    head = torch.tensor([True, True, False])  # counts [100, 50, 2], λ = 5
    labels = torch.tensor([0, 2, 1])
    u = torch.tensor([[0.1, 0.1, 0.5], [0.1, 0.1, 0.1], [0.1, 0.1, 0.95]])
    keep = equalization_keep_mask(labels, head, u, gamma_ignore=0.9)
    expected = [[True, True, False], [True, True, True], [True, True, True]]
    assert keep.tolist() == expected


def test_equalization_loss_with_fixed_seed_and_gradients():
    loss = EqualizationLoss([100, 50, 2])
    assert loss.lambda_threshold == 5.0
    assert loss.head.tolist() == [True, True, False]
    z = torch.tensor([[1.0, 2.0, 3.0], [1.0, 0.0, -1.0], [0.5, 0.0, 2.0]], requires_grad=True)
    y = torch.tensor([0, 1, 2])
    torch.manual_seed(3)
    u = torch.rand(3, 3)
    torch.manual_seed(3)
    value = loss(z, y)
    total, suppressed = 0.0, []
    for i, row in enumerate(z.tolist()):
        kept = [v for k, v in enumerate(row) if k != 2 or y[i] == 2 or u[i, 2] > 0.9]
        suppressed.append(len(kept) < 3)
        total += math.log(sum(math.exp(v) for v in kept)) - row[int(y[i])]
    assert float(value) == pytest.approx(total / 3, rel=1e-6)
    value.backward()
    for i in range(3):
        assert (float(z.grad[i, 2]) == 0.0) == suppressed[i]
    assert any(suppressed[:2])


def test_equalization_suppresses_tail_negatives_only_sometimes():
    head = torch.tensor([True, False])
    labels = torch.zeros(4000, dtype=torch.long)
    torch.manual_seed(0)
    keep = equalization_keep_mask(labels, head, torch.rand(4000, 2), gamma_ignore=0.9)
    assert bool(keep[:, 0].all())
    dropped = 1 - keep[:, 1].float().mean()
    assert 0.87 < float(dropped) < 0.93
    assert float(torch.finfo(torch.float16).min) < SUPPRESSED_LOGIT


def test_sync_free_counts_and_masks_equal_bincount_and_one_hot():
    """The host-sync-free replacements give exactly what they replace."""
    from cslnb.losses.checks import label_mask
    from cslnb.losses.csl_common import prediction_counts

    labels = torch.tensor([3, 0, 3, 3, 1, 0, 4])
    counts = prediction_counts(labels, 6)
    assert counts.dtype == torch.float64
    assert counts.tolist() == [2.0, 1.0, 0.0, 3.0, 1.0, 0.0]
    assert torch.equal(counts, torch.bincount(labels, minlength=6).double())
    assert torch.equal(label_mask(labels, 6), torch.nn.functional.one_hot(labels, 6).bool())

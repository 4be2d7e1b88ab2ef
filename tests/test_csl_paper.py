"""CSLLoss(reading="paper"): hand-computed values, ablations, gradients, robustness, resume."""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F

from cslnb.losses.csl import TRACE_KEYS, CSLLoss

EPS = 1e-6
K = 2.0

# A tiny case, C = 3, B = 4, three epochs with one batch each.
LOGITS_0 = [[2.0, 0.0, 0.0], [1.0, 0.5, 0.0], [0.0, 1.5, 0.2], [0.1, 0.0, 1.0]]  # preds 0,0,1,2
LABELS_0 = [0, 1, 1, 2]
FEATS_0 = [[1.0, 0.0], [0.0, 2.0], [1.0, 1.0], [3.0, 0.0]]
LOGITS_1 = [[1.2, 0.3, -0.5], [0.2, 2.0, 0.1], [-0.3, 0.8, 0.5], [0.0, 0.4, 1.1]]  # 0,1,1,2
LABELS_1 = [0, 1, 2, 2]
FEATS_1 = [[3.0, 4.0], [1.0, 0.0], [0.0, 2.0], [1.0, 1.0]]
LOGITS_2 = [[0.5, 0.1, 0.0], [1.0, -1.0, 0.3], [0.2, 0.9, 0.0], [0.3, 0.2, 0.25]]  # 0,0,1,0
LABELS_2 = [0, 0, 1, 2]
FEATS_2 = [[1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [1.0, 1.0]]


def _t(rows, dtype=torch.float32):
    return torch.tensor(rows, dtype=dtype)


def _softmax(row):
    m = max(row)
    e = [math.exp(v - m) for v in row]
    return [x / sum(e) for x in e]


def _argmax(row):
    return max(range(len(row)), key=lambda j: row[j])


def _hand_stats(logits, labels, feats, c=3):
    """S_i, H_i, γ_i and the prediction counts of one epoch, with plain Python math."""
    s, h = [], []
    for i in range(c):
        idx = [b for b in range(len(labels)) if labels[b] == i]
        norms = [math.sqrt(sum(x * x for x in feats[b])) for b in idx]
        ents = [-sum(q * math.log(q) for q in _softmax(logits[b])) for b in idx]
        s.append((sum(norms) / len(idx)) ** 2)
        h.append(sum(ents) / len(idx))
    gamma = [s[i] / ((1 + EPS) * h[i] * max(s)) for i in range(c)]
    counts = [sum(1 for row in logits if _argmax(row) == i) for i in range(c)]
    return s, h, gamma, counts


def _hand_constants(gamma_on=True, npred_on=True, reinf_on=True):
    """Numerators (γ_i N_pred,i + r_i)² for the batch of epoch 2, by hand."""
    _, _, _, counts0 = _hand_stats(LOGITS_0, LABELS_0, FEATS_0)
    _, _, gamma1, counts1 = _hand_stats(LOGITS_1, LABELS_1, FEATS_1)
    r = [
        (-K if counts1[i] > counts0[i] else K if counts1[i] < counts0[i] else 0.0) for i in range(3)
    ]
    n_pred = [sum(1 for row in LOGITS_2 if _argmax(row) == i) for i in range(3)]
    gamma = gamma1 if gamma_on else [1.0] * 3
    n_pred = n_pred if npred_on else [1.0] * 3
    r = r if reinf_on else [0.0] * 3
    return [(gamma[i] * n_pred[i] + r[i]) ** 2 for i in range(3)]


def _hand_loss(gamma_on=True, npred_on=True, reinf_on=True, denom_on=True):
    ce = 0.0
    for row, y in zip(LOGITS_2, LABELS_2, strict=True):
        ce -= math.log(_softmax(row)[y])
    ce /= len(LABELS_2)
    numer = _hand_constants(gamma_on, npred_on, reinf_on)
    extra = 0.0
    for i in range(3):
        denom = 1.0
        if denom_on:
            denom = sum(
                (_softmax(row)[c] - (1.0 if c == i else 0.0)) ** 2
                for row in LOGITS_2
                for c in range(3)
            )
            denom += EPS
        extra += numer[i] / denom
    return ce + extra / 3


def _run_two_epochs(loss, dtype=torch.float32):
    for epoch, (z, y, f) in enumerate(
        [(LOGITS_0, LABELS_0, FEATS_0), (LOGITS_1, LABELS_1, FEATS_1)]
    ):
        loss.start_epoch(epoch)
        loss(_t(z, dtype), torch.tensor(y), _t(f, dtype))
        loss.end_epoch(epoch)
    loss.start_epoch(2)
    return loss


def test_hand_computed_value_after_statistics_exist():
    loss = _run_two_epochs(CSLLoss([5, 3, 1]))
    # The statistics recorded for epoch 1 match the hand computation.
    s1, h1, gamma1, counts1 = _hand_stats(LOGITS_1, LABELS_1, FEATS_1)
    trace = loss.epoch_trace()
    assert trace["semantic_scale"] == pytest.approx(s1, rel=1e-6)
    assert trace["entropy"] == pytest.approx(h1, rel=1e-6)
    assert trace["gamma"] == pytest.approx(gamma1, rel=1e-6)
    assert trace["n_pred"] == [float(v) for v in counts1]
    # counts epoch 0 -> 1: class 0 fell 2 -> 1 (+k), class 1 rose 1 -> 2 (-k), class 2 same.
    assert trace["reinforcement"] == [K, -K, 0.0]
    out = loss(_t(LOGITS_2), torch.tensor(LABELS_2), _t(FEATS_2))
    assert out.item() == pytest.approx(_hand_loss(), rel=1e-5)
    assert out.item() > F.cross_entropy(_t(LOGITS_2), torch.tensor(LABELS_2)).item() + 1e-3


@pytest.mark.parametrize(
    "switch, flags",
    [
        ("use_gamma", {"gamma_on": False}),
        ("use_npred", {"npred_on": False}),
        ("use_reinforcement", {"reinf_on": False}),
        ("use_denominator", {"denom_on": False}),
    ],
)
def test_each_ablation_switch_changes_only_its_factor(switch, flags):
    loss = _run_two_epochs(CSLLoss([5, 3, 1], **{switch: False}))
    out = loss(_t(LOGITS_2), torch.tensor(LABELS_2), _t(FEATS_2))
    assert out.item() == pytest.approx(_hand_loss(**flags), rel=1e-5)
    assert abs(_hand_loss(**flags) - _hand_loss()) > 1e-3  # the factor mattered


def test_gamma_prefers_large_scale_and_low_entropy():
    # class 0: large features, confident logits; class 2: large features, uncertain logits;
    # class 1: small features, uncertain logits.
    logits = _t(
        [
            [8.0, 0.0, 0.0],
            [7.0, 0.0, 0.0],
            [0.1, 0.0, 0.0],
            [0.0, 0.1, 0.0],
            [0.0, 0.0, 0.1],
            [0.1, 0.1, 0.0],
        ]
    )
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    feats = _t([[10.0, 0.0], [0.0, 10.0], [1.0, 0.0], [0.0, 1.0], [6.0, 8.0], [8.0, 6.0]])
    loss = CSLLoss([2, 2, 2])
    loss(logits, labels, feats)
    loss.end_epoch(0)
    tr = loss.epoch_trace()
    g = tr["gamma"]
    assert tr["semantic_scale"][0] == pytest.approx(100.0)
    assert tr["semantic_scale"][2] == pytest.approx(100.0)
    assert tr["entropy"][0] < tr["entropy"][2]
    assert g[0] > g[2] > g[1] > 0  # lower H beats higher H; larger S beats smaller S


def test_toy_argument_more_predictions_and_higher_gamma_cost_more():
    loss = CSLLoss([2, 2, 2], use_denominator=False, use_reinforcement=False)
    logits = _t([[8.0, 0.0, 0.0], [0.0, 0.1, 0.0], [0.0, 0.0, 0.1]])
    loss(logits, torch.tensor([0, 1, 2]), _t([[5.0], [1.0], [2.0]]))
    loss.end_epoch(0)
    g = loss.epoch_trace()["gamma"]
    assert g[0] > g[1]
    y = torch.tensor([0, 1, 2, 0])
    f = torch.ones(4, 1)

    def extra(pred_classes):
        z = torch.zeros(4, 3)
        z[torch.arange(4), torch.tensor(pred_classes)] = 5.0
        return (loss(z, y, f) - F.cross_entropy(z, y)).item()

    four_of_0, four_of_1, three_of_0 = extra([0, 0, 0, 0]), extra([1, 1, 1, 1]), extra([0, 0, 0, 2])
    assert four_of_0 == pytest.approx((g[0] * 4) ** 2 / 3, rel=1e-5)
    assert four_of_1 == pytest.approx((g[1] * 4) ** 2 / 3, rel=1e-5)
    assert four_of_0 > four_of_1  # same N_pred, higher γ -> more penalty
    assert four_of_0 > three_of_0  # same γ, more predictions -> more penalty


def test_reinforcement_follows_the_count_change():
    loss = CSLLoss([1, 1, 1, 1])
    f = torch.ones(4, 2)
    y = torch.tensor([0, 1, 2, 3])

    def epoch(preds, e):
        z = torch.zeros(4, 4)
        z[torch.arange(4), torch.tensor(preds)] = 3.0
        loss.start_epoch(e)
        loss(z, y, f)
        loss.end_epoch(e)
        return loss.epoch_trace()["reinforcement"]

    assert epoch([0, 0, 1, 2], 0) == [0.0] * 4  # no previous epoch yet
    # counts [2,1,1,0] -> [1,1,0,2]: class 0 fell (+k), 1 same (0), 2 fell (+k), 3 rose (-k).
    assert epoch([0, 1, 3, 3], 1) == [K, 0.0, K, -K]
    assert CSLLoss([1, 1], k=0.5).k == 0.5


def test_npred_epoch_uses_previous_epoch_frequency_scaled_to_batch():
    loss = CSLLoss(
        [1, 1, 1], npred="epoch", use_gamma=False, use_reinforcement=False, use_denominator=False
    )
    z = torch.zeros(4, 3)
    z[torch.arange(4), torch.tensor([0, 0, 0, 2])] = 3.0
    loss(z, torch.tensor([0, 1, 2, 0]), torch.ones(4, 2))
    loss.end_epoch(0)
    zb = torch.randn(6, 3)
    yb = torch.randint(0, 3, (6,))
    extra = loss(zb, yb, torch.ones(6, 2)) - F.cross_entropy(zb, yb)
    freq = [3 / 4, 0.0, 1 / 4]
    assert extra.item() == pytest.approx(sum((6 * q) ** 2 for q in freq) / 3, rel=1e-5)


def test_gradient_flows_only_through_the_denominator():
    loss = _run_two_epochs(CSLLoss([5, 3, 1]), dtype=torch.float64)
    z = _t(LOGITS_2, torch.float64).requires_grad_(True)
    y = torch.tensor(LABELS_2)
    extra = loss(z, y, _t(FEATS_2, torch.float64)) - F.cross_entropy(z, y)
    (grad,) = torch.autograd.grad(extra, z)
    # Analytic derivative of (1/C) Σ_i c_i / (Σ_b Σ_c (p_bc − [c=i])² + ε), c_i constants.
    const = torch.tensor(_hand_constants(), dtype=torch.float64) / 3
    p = torch.softmax(z.detach(), dim=1)
    eye = torch.eye(3, dtype=torch.float64)
    d = torch.stack([((p - eye[i]) ** 2).sum() for i in range(3)]) + EPS
    g_p = sum(-const[i] / d[i] ** 2 * 2 * (p - eye[i]) for i in range(3))
    expected = p * (g_p - (g_p * p).sum(dim=1, keepdim=True))
    torch.testing.assert_close(grad, expected, rtol=1e-9, atol=1e-12)
    assert grad.abs().max() > 1e-4
    # Without the denominator the additional term has no gradient at all.
    flat = _run_two_epochs(CSLLoss([5, 3, 1], use_denominator=False), dtype=torch.float64)
    z2 = _t(LOGITS_2, torch.float64).requires_grad_(True)
    extra2 = flat(z2, y, _t(FEATS_2, torch.float64)) - F.cross_entropy(z2, y)
    (grad2,) = torch.autograd.grad(extra2, z2)
    assert extra2.item() > 0
    assert grad2.abs().max().item() < 1e-12


@pytest.mark.parametrize("kwargs", [{}, {"use_gamma": False}, {"npred": "epoch"}])
def test_first_epoch_is_plain_cross_entropy(kwargs):
    loss = CSLLoss([3, 2, 1], **kwargs)
    assert loss.epoch_trace() == {}
    z = torch.randn(5, 3)
    y = torch.randint(0, 3, (5,))
    assert torch.equal(loss(z, y, torch.randn(5, 4)), F.cross_entropy(z, y))


def test_empty_classes_one_class_batches_and_low_precision_stay_finite():
    loss = CSLLoss([5, 5, 0, 0])
    # Epoch 0: classes 2 and 3 never appear -> S = H = γ = 0 for them.
    loss(torch.randn(6, 4), torch.tensor([0, 1, 0, 1, 0, 0]), torch.randn(6, 3))
    loss.end_epoch(0)
    tr = loss.epoch_trace()
    assert tr["gamma"][2:] == [0.0, 0.0] and tr["semantic_scale"][2:] == [0.0, 0.0]
    assert all(math.isfinite(v) for key in TRACE_KEYS for v in tr[key])
    # All-one-class batch with saturated softmax (denominator of class 0 ≈ 0).
    z = torch.zeros(8, 4)
    z[:, 0] = 60.0
    z.requires_grad_(True)
    out = loss(z, torch.zeros(8, dtype=torch.long), torch.randn(8, 3))
    (g,) = torch.autograd.grad(out, z)
    assert torch.isfinite(out) and torch.isfinite(g).all()
    # Features all zero -> max S = 0 -> γ = 0, no NaN.
    zero_feat = CSLLoss([1, 1])
    zero_feat(torch.randn(4, 2), torch.tensor([0, 1, 0, 1]), torch.zeros(4, 5))
    zero_feat.end_epoch(0)
    assert zero_feat.epoch_trace()["gamma"] == [0.0, 0.0]
    # Confident class (H ≈ 0): γ large but finite.
    conf = CSLLoss([1, 1])
    conf(_t([[200.0, 0.0], [0.0, 0.1]]), torch.tensor([0, 1]), torch.ones(2, 2))
    conf.end_epoch(0)
    assert all(math.isfinite(v) for v in conf.epoch_trace()["gamma"])
    # fp16 / bf16 logits: computed in float32, same as on the up-cast values.
    for dtype in (torch.float16, torch.bfloat16):
        twin = copy.deepcopy(loss)
        zl = torch.randn(7, 4).to(dtype)
        y = torch.randint(0, 4, (7,))
        f = torch.randn(7, 3).to(dtype)
        low = loss(zl, y, f)
        ref = twin(zl.float(), y, f.float())
        assert low.dtype == torch.float32 and torch.isfinite(low)
        torch.testing.assert_close(low, ref)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            assert torch.isfinite(loss(zl.float(), y, f.float()))


def test_state_dict_round_trip_continues_identically():
    gen = torch.Generator().manual_seed(3)

    def batch():
        return (
            torch.randn(10, 5, generator=gen) * 2,
            torch.randint(0, 5, (10,), generator=gen),
            torch.randn(10, 6, generator=gen),
        )

    data = [[batch() for _ in range(3)] for _ in range(4)]
    a = CSLLoss([9, 5, 3, 2, 1])
    for e in range(2):
        a.start_epoch(e)
        for z, y, f in data[e]:
            a(z, y, f)
        a.end_epoch(e)
    a.start_epoch(2)
    a(*data[2][0])  # resume from the middle of an epoch
    b = CSLLoss([9, 5, 3, 2, 1])
    b.load_state_dict(a.state_dict())
    for e in (2, 3):
        if e == 3:
            a.start_epoch(e)
            b.start_epoch(e)
        for z, y, f in data[e][1 if e == 2 else 0 :]:
            assert torch.equal(a(z, y, f), b(z, y, f))
        a.end_epoch(e)
        b.end_epoch(e)
        assert a.epoch_trace() == b.epoch_trace()


def test_epoch_trace_keys_and_shapes():
    for reading in ("paper", "released"):
        loss = CSLLoss([4, 3, 2, 1, 1], reading=reading)
        assert loss.needs_features is True
        assert loss.epoch_trace() == {}
        for _ in range(3):
            loss(torch.randn(6, 5), torch.randint(0, 5, (6,)), torch.randn(6, 3))
        loss.end_epoch(0)
        tr = loss.epoch_trace()
        assert tuple(tr) == TRACE_KEYS
        assert all(len(tr[key]) == 5 for key in TRACE_KEYS)
        assert sum(tr["n_pred"]) == 18.0


def test_no_grad_and_eval_calls_are_not_special():
    # Statistics come only from what forward is given; no_grad/eval do not skip the update
    # (so the trainer must never call the loss on validation data).
    gen = torch.Generator().manual_seed(0)
    data = [
        (
            torch.randn(6, 3, generator=gen),
            torch.randint(0, 3, (6,), generator=gen),
            torch.randn(6, 4, generator=gen),
        )
        for _ in range(4)
    ]
    a, b = CSLLoss([3, 2, 1]), CSLLoss([3, 2, 1])
    b.eval()
    for z, y, f in data:
        a(z, y, f)
        with torch.no_grad():
            b(z, y, f)
    a.end_epoch(0)
    b.end_epoch(0)
    assert a.epoch_trace() == b.epoch_trace()
    with pytest.raises(ValueError):
        a(torch.randn(2, 3), torch.tensor([0, 1]))  # paper reading needs features


@pytest.mark.parametrize(
    ("options", "factor"), [({"scale": 0.1}, 0.1), ({"batch_mean": True}, 1 / 4)]
)
def test_scale_and_batch_mean_multiply_only_the_term(options, factor):
    # B = 4, so batch_mean divides the term by 4; scale=0.1 multiplies it by 0.1.
    ce = F.cross_entropy(_t(LOGITS_2), torch.tensor(LABELS_2)).item()
    loss = _run_two_epochs(CSLLoss([5, 3, 1], **options))
    out = loss(_t(LOGITS_2), torch.tensor(LABELS_2), _t(FEATS_2)).item()
    assert out - ce == pytest.approx(factor * (_hand_loss() - ce), rel=1e-5)


def test_entropy_by_prediction_groups_by_argmax_and_gives_unpredicted_classes_ln_c():
    # LOGITS_2 predicts 0, 0, 1, 0 (labels 0, 0, 1, 2): H_0 averages samples 0, 1 and 3,
    # H_1 is sample 2's entropy, class 2 is never predicted -> ln 3. S stays by label.
    loss = CSLLoss([5, 3, 1], entropy_by="prediction")
    loss.start_epoch(0)
    loss(_t(LOGITS_2), torch.tensor(LABELS_2), _t(FEATS_2))
    loss.end_epoch(0)
    ent = [-sum(q * math.log(q) for q in _softmax(row)) for row in LOGITS_2]
    expected = [(ent[0] + ent[1] + ent[3]) / 3, ent[2], math.log(3)]
    trace = loss.epoch_trace()
    assert trace["entropy"] == pytest.approx(expected, rel=1e-6)
    assert trace["semantic_scale"] == pytest.approx([2.0, 2.0, 2.0], rel=1e-6)  # ‖(1, 1)‖² = 2
    by_label = CSLLoss([5, 3, 1])
    by_label.start_epoch(0)
    by_label(_t(LOGITS_2), torch.tensor(LABELS_2), _t(FEATS_2))
    by_label.end_epoch(0)
    assert by_label.epoch_trace()["entropy"] == pytest.approx(
        [(ent[0] + ent[1]) / 2, ent[2], ent[3]], rel=1e-6
    )


@pytest.mark.parametrize(
    "options", [{"scale": 0.5}, {"batch_mean": True}, {"entropy_by": "prediction"}]
)
def test_size_and_grouping_options_belong_to_the_paper_reading(options):
    with pytest.raises(ValueError, match="paper"):
        CSLLoss([3, 2, 1], reading="released", **options)
    with pytest.raises(ValueError):
        CSLLoss([3, 2, 1], entropy_by="logit")
    with pytest.raises(ValueError):
        CSLLoss([3, 2, 1], scale=0.0)

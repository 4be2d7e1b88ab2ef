"""CSLLoss(reading="released") against a naive transcription of csl.md's eight steps."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from cslnb.losses.csl import CSLLoss
from cslnb.losses.csl_released_naive import NaiveReleasedCSL


def _buffer_layout(module: torch.nn.Module) -> dict[str, tuple[int, ...]]:
    return {name: tuple(buf.shape) for name, buf in module.named_buffers()}


def _python_containers(module: torch.nn.Module) -> list[str]:
    found = []
    for mod in module.modules():
        for key, value in vars(mod).items():
            if isinstance(value, (list, tuple, set)) and not key.startswith("_"):
                found.append(f"{type(mod).__name__}.{key}")
    return found


def test_released_equals_naive_transcription_and_memory_is_flat():
    c = 6
    gen = torch.Generator().manual_seed(1234)
    loss = CSLLoss([50, 30, 20, 10, 5, 1], reading="released")
    naive = NaiveReleasedCSL(c)
    layout_after_first = None
    numel_after_first = None
    saw_one_class = saw_nan = False
    for call in range(60):
        batch = int(torch.randint(2, 25, (1,), generator=gen))
        scale = float(torch.rand((), generator=gen)) * 4 + 0.5
        logits = torch.randn(batch, c, generator=gen) * scale
        if call % 7 == 3:  # one-class batch
            labels = torch.full((batch,), call % c, dtype=torch.long)
            saw_one_class = True
        else:  # labels from classes 0..3 only: classes 4, 5 stay empty until later
            hi = 4 if call < 30 else c
            labels = torch.randint(0, hi, (batch,), generator=gen)
        if call % 9 == 5:
            logits[0, 1] = float("nan")
            logits[-1, :] = float("nan")  # a fully-NaN row
            saw_nan = True
        z1 = logits.clone().requires_grad_(True)
        z2 = logits.clone().requires_grad_(True)
        out = loss(z1, labels, None)
        ref = naive(z2, labels)
        (g1,) = torch.autograd.grad(out, z1)
        (g2,) = torch.autograd.grad(ref, z2)
        assert torch.isfinite(out)
        torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-6, msg=f"call {call}")
        torch.testing.assert_close(g1, g2, rtol=1e-4, atol=1e-6, msg=f"grad, call {call}")
        if call == 0:
            layout_after_first = _buffer_layout(loss)
            numel_after_first = sum(b.numel() for b in loss.buffers())
        if call == 49:
            assert _buffer_layout(loss) == layout_after_first
            assert sum(b.numel() for b in loss.buffers()) == numel_after_first
    assert saw_one_class and saw_nan
    # The naive store really grew, ours did not.
    assert sum(len(v) for v in naive.store) > 500
    assert sum(b.numel() for b in loss.buffers()) == numel_after_first
    assert _python_containers(loss) == []


def test_released_first_call_values_by_hand():
    # B = 2, C = 2: predictions [0, 0]; first call -> r = 0.
    z = torch.tensor([[3.0, 0.0], [0.0, -1.0]]).requires_grad_(True)
    y = torch.tensor([0, 1])
    loss = CSLLoss([1, 1], reading="released")
    out = loss(z, y)
    s0, s1 = 3.0**2, 1.0**2
    h0 = -2 * 0.5 * math.log(0.5 + 1e-6)
    gamma0 = s0 / (1e-6 + (s0 + 1e-6) * h0)
    term0 = (gamma0 * 2) ** 2
    d0 = (3 - 1) ** 2 + 0 + (0 - 1) ** 2 + 1 + 1e-6
    ce = F.cross_entropy(z.detach(), y).item()
    assert out.item() == pytest.approx(ce + term0 / d0 / 2, rel=1e-6)
    assert s1 == 1.0
    # Second call with fewer predictions of class 0 -> r_0 = +2, more of class 1 -> r_1 = -2.
    loss(torch.tensor([[0.0, 1.0], [2.0, 0.0]]), y)
    loss.end_epoch(0)
    trace = loss.epoch_trace()
    assert trace["reinforcement"] == [2.0, -2.0]
    assert trace["n_pred"] == [3.0, 1.0]
    assert set(trace) == {"semantic_scale", "entropy", "gamma", "n_pred", "reinforcement"}


def test_released_rejects_paper_switches():
    with pytest.raises(ValueError):
        CSLLoss([3, 2], reading="released", use_gamma=False)
    with pytest.raises(ValueError):
        CSLLoss([3, 2], reading="released", npred="epoch")


def test_released_state_dict_resume_is_identical():
    gen = torch.Generator().manual_seed(7)
    batches = [
        (torch.randn(8, 4, generator=gen) * 3, torch.randint(0, 4, (8,), generator=gen))
        for _ in range(12)
    ]
    a = CSLLoss([4, 3, 2, 1], reading="released")
    for z, y in batches[:5]:
        a(z, y)
    a.end_epoch(0)
    a.start_epoch(1)
    a(*batches[5])
    b = CSLLoss([4, 3, 2, 1], reading="released")
    b.load_state_dict(a.state_dict())
    for z, y in batches[6:]:
        assert torch.equal(a(z, y), b(z, y))
    a.end_epoch(1)
    b.end_epoch(1)
    assert a.epoch_trace() == b.epoch_trace()

"""The code the grader runs in the student's kernel to export an exercise's answers as plain data.

:func:`export_code` returns one statement that executes :data:`KERNEL_SOURCE` in a private
namespace (nothing is left in the student's namespace). It evaluates each answer expression (see
:mod:`cslnb.teaching.answers`) and prints one line: ``marker`` followed by JSON. Every value is
reduced to JSON types with its exact type name (``type(value) is float``, never ``isinstance``),
so a float subclass whose ``__eq__`` always answers ``True`` arrives as an unknown type with no
value, and a tensor as its dtype, shape and nested lists. Nothing the kernel does can reach the
expected values: they exist only in the grader's process and in the checker's stdin.
"""

from __future__ import annotations

import json

KERNEL_SOURCE = r'''
import copy
import json

import numpy
import torch
import torch.nn.functional as F

_SCALARS = (bool, int, float, str, type(None))
_NUMPY_SCALARS = (numpy.float64, numpy.float32, numpy.int64, numpy.int32, numpy.bool_)


def _type_name(value):
    kind = type(value)
    module = kind.__module__
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"


def _plain(value, depth=0):
    if depth > 5:
        raise TypeError("answer nested too deeply")
    kind = type(value)
    if kind in _SCALARS:
        return {"type": _type_name(value), "value": value}
    if kind in _NUMPY_SCALARS:
        return {"type": _type_name(value), "value": value.item()}
    if kind is torch.Tensor or kind is numpy.ndarray:
        array = value.detach().cpu() if kind is torch.Tensor else value
        if kind is torch.Tensor and array.dtype in (torch.float16, torch.bfloat16):
            array = array.double()
        return {
            "type": _type_name(value),
            "dtype": str(value.dtype),
            "shape": list(value.shape),
            "value": array.tolist(),
        }
    if kind in (list, tuple):
        return {"type": _type_name(value), "value": [_plain(v, depth + 1) for v in value]}
    if kind is dict:
        items = [[_plain(k, depth + 1), _plain(v, depth + 1)] for k, v in value.items()]
        return {"type": "dict", "value": items}
    return {"type": _type_name(value), "value": None}


def _training_evidence(model):
    """The model's training loss against the same network at its initialisation (seed 0)."""
    from cslnb.data import GPULoader, build_in_memory_dataset
    from cslnb.models import build_model
    from cslnb.profiles import get_profile

    data = build_in_memory_dataset(
        "cifar10", ratio=100, imb_type="exp", seed=0, profile=get_profile()
    )
    device = next(model.parameters()).device
    torch.manual_seed(0)
    initial = build_model("resnet8", data.num_classes).to(device)
    loader = GPULoader(data.train, batch_size=256, train=False, device=device, seed=0)

    def mean_loss(network):
        network = copy.deepcopy(network).train()
        total = count = 0
        with torch.no_grad():
            for images, targets in loader:
                total += F.cross_entropy(network(images), targets, reduction="sum").item()
                count += len(targets)
                if count >= 2048:
                    break
        return total / count

    start, now = initial.state_dict(), model.state_dict()
    floats = [k for k, v in start.items() if v.is_floating_point()]
    changed = sum(not torch.equal(now[k].cpu(), start[k].cpu()) for k in floats)
    return {
        "loss_initial": mean_loss(initial),
        "loss_trained": mean_loss(model),
        "changed_fraction": changed / len(floats),
    }


def export(answers, seed, marker, namespace):
    out = {}
    for name, expression in answers:
        scope = dict(namespace)
        scope["_g"] = torch.Generator().manual_seed(seed)
        scope["_training_evidence"] = _training_evidence
        scope["torch"] = torch
        try:
            value = eval(expression, scope)
            if value is Ellipsis or value is None:
                out[name] = {"ok": False, "error": f"not answered (it is {value!r})"}
            else:
                out[name] = {"ok": True, "value": _plain(value)}
        except BaseException as error:
            out[name] = {"ok": False, "error": f"{type(error).__name__}: {error}"[:300]}
    print(marker + json.dumps(out), flush=True)
'''
"""Runs in the student's kernel, inside a fresh namespace (see :func:`export_code`)."""


def export_code(answers: list[tuple[str, str]], seed: int, marker: str) -> str:
    """One statement for the kernel: define :data:`KERNEL_SOURCE` privately and export.

    ``answers`` pairs a name with the expression evaluated in the student's namespace; ``seed``
    seeds the generator ``_g`` the held-out probes draw from; the JSON line starts with
    ``marker``.
    """
    call = f"export({answers!r}, {int(seed)}, {marker!r}, get_ipython().user_ns)"
    source = KERNEL_SOURCE + "\n" + call + "\n"
    return f"exec({source!r}, {{'get_ipython': get_ipython, '__name__': 'cslnb_export'}})"


def parse_export(stdout: str, marker: str) -> dict[str, dict] | None:
    """The exported answers from the kernel's output, or ``None`` when no export line came."""
    for line in reversed(stdout.splitlines()):
        if line.startswith(marker):
            return json.loads(line[len(marker) :])
    return None

"""The hidden checks, in a fresh process, on exported plain data.

Run as ``python -m cslnb.teaching.checker``.

Reads one JSON object on stdin, ``{"answers": {exercise: export | null}, "key": {exercise:
export}}`` (exports as written by :mod:`cslnb.teaching.export`; ``key`` is the reference
solutions' export from the same session), and writes ``{exercise: {"passed", "unanswered",
"feedback"}}`` on stdout. No student code runs here and nothing here is reachable from the
student's kernel: the exported values are plain JSON, checked for their exact type names before
any comparison.
"""

from __future__ import annotations

import json
import math
import sys

import numpy as np

from cslnb.teaching.answers import Answer, ExerciseSpec, exercise_specs

FLOAT_TYPES = {"float", "int", "numpy.float64", "numpy.float32", "numpy.int64", "numpy.int32"}
INT_TYPES = {"int", "numpy.int64", "numpy.int32"}
ARRAY_TYPES = {"torch.Tensor", "numpy.ndarray"}

LOSS_DROP = 0.8
"""Training evidence: the trained model's loss must be below this fraction of its initial loss."""


class Mismatch(ValueError):
    """An answer of the wrong type or value; the message is feedback in words."""


def conform(exported: dict, kind: str, dtype: str | None = None) -> object:
    """The plain value of an exported answer, after checking its exact type against ``kind``."""
    name, value = exported.get("type"), exported.get("value")
    if kind == "float":
        if name not in FLOAT_TYPES or isinstance(value, bool):
            raise Mismatch(f"should be a plain float, got {name}")
        return float(value)
    if kind == "int":
        if name not in INT_TYPES:
            raise Mismatch(f"should be a plain int, got {name}")
        return int(value)
    if kind == "str":
        if name != "str":
            raise Mismatch(f"should be a str, got {name}")
        return value
    if kind == "tensor":
        if name not in ARRAY_TYPES:
            raise Mismatch(f"should be a tensor, got {name}")
        if dtype is not None and exported.get("dtype") != dtype:
            raise Mismatch(f"should have dtype {dtype}, got {exported.get('dtype')}")
        return np.asarray(value, dtype=np.float64)
    if kind.startswith("list["):
        if name not in ("list", "tuple"):
            raise Mismatch(f"should be a list, got {name}")
        inner = kind[5:-1]
        try:
            return [conform(item, inner) for item in value]
        except Mismatch as error:
            raise Mismatch(f"has an element that {error}") from None
    if kind.startswith("dict[") or kind == "evidence":
        if name != "dict":
            raise Mismatch(f"should be a dict, got {name}")
        key_kind, value_kind = ("str", "float") if kind == "evidence" else kind[5:-1].split(",")
        try:
            return {conform(k, key_kind): conform(v, value_kind) for k, v in value}
        except Mismatch as error:
            raise Mismatch(f"has an entry that {error}") from None
    raise ValueError(f"unknown kind {kind!r}")


def _close(actual: object, expected: object, answer: Answer) -> bool:
    if answer.compare == "equal":
        return actual == expected
    if isinstance(expected, dict):
        return set(actual) == set(expected) and all(
            _close(actual[k], expected[k], answer) for k in expected
        )
    a, e = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    return a.shape == e.shape and bool(np.allclose(a, e, rtol=answer.rtol, atol=answer.atol))


def _describe(answer: Answer) -> str:
    return f"`{answer.name}`" + (f" ({answer.words})" if answer.words else "")


def check_answer(answer: Answer, exported: dict | None, expected: dict) -> object:
    """The conformed value of one answer; :class:`Mismatch` (in words) when it is wrong."""
    if exported is None or not exported.get("ok"):
        reason = "missing" if exported is None else exported.get("error", "missing")
        raise Mismatch(f"{_describe(answer)} could not be read: {reason}")
    try:
        value = conform(exported["value"], answer.kind, answer.dtype)
    except Mismatch as error:
        raise Mismatch(f"{_describe(answer)} {error}") from None
    if answer.compare == "none":
        return value
    reference = conform(expected["value"], answer.kind, answer.dtype)
    if not _close(value, reference, answer):
        shape = ""
        if isinstance(reference, np.ndarray) and np.shape(value) != reference.shape:
            shape = f": shape {list(np.shape(value))}, expected {list(reference.shape)}"
        raise Mismatch(f"{_describe(answer)} is not the expected value{shape}")
    return value


def check_training(values: dict[str, object], spec: ExerciseSpec) -> list[str]:
    """Evidence of training: the recorded losses, and the model against its initialisation."""
    problems = []
    losses, steps = values.get(f"losses_{spec.name}"), values.get("steps")
    if losses is not None and steps is not None:
        if len(losses) != steps:
            problems.append(f"`losses_{spec.name}` has {len(losses)} losses for {steps} steps")
        elif not all(math.isfinite(x) for x in losses):
            problems.append(f"`losses_{spec.name}` holds a non-finite loss")
        elif spec.losses_fall and np.mean(losses[len(losses) // 2 :]) >= np.mean(
            losses[: len(losses) // 2]
        ):
            problems.append(f"`losses_{spec.name}` does not fall: the loop did not learn")
    evidence = values.get("training evidence")
    if evidence is not None:
        if evidence.get("changed_fraction", 0) < 1:
            problems.append(
                f"`{spec.training}` still has weights equal to its initialisation: train every "
                "layer with the loop, not only the classifier"
            )
        if not evidence.get("loss_trained", math.inf) < LOSS_DROP * evidence.get("loss_initial", 0):
            problems.append(f"`{spec.training}` fits the training data no better than at start")
    return problems


def _spearman(x: list[float], y: np.ndarray) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(x, y).statistic)


def check_exercise(spec: ExerciseSpec, export: dict | None, key: dict) -> dict[str, object]:
    """``passed`` (every check), ``unanswered`` (an answer is undefined, still ``...`` or
    ``None``) and ``feedback`` in words."""
    if export is None:
        return {"passed": False, "unanswered": True, "feedback": ["no answers were exported"]}
    feedback, values = [], {}
    for answer in spec.answers:
        try:
            values[answer.name] = check_answer(answer, export.get(answer.name), key[answer.name])
        except Mismatch as error:
            feedback.append(str(error))
    if spec.training is not None and not feedback:
        feedback += check_training(values, spec)
    if spec.name == "e03" and not feedback:
        expected = _spearman(values["class counts"], values["fc weight norms"])
        if not abs(values["rho_e03"] - expected) < 1e-6:
            feedback.append("`rho_e03` is not the Spearman correlation of the counts and the norms")
    unanswered = any(
        str((export.get(a.name) or {}).get("error", "")).startswith(("not answered", "NameError"))
        for a in spec.answers
    )
    return {"passed": not feedback, "unanswered": unanswered, "feedback": feedback}


def check_all(answers: dict[str, dict | None], key: dict[str, dict]) -> dict[str, dict]:
    """:func:`check_exercise` for every exercise in ``key``."""
    specs = exercise_specs()
    return {name: check_exercise(specs[name], answers.get(name), key[name]) for name in key}


def main() -> None:
    request = json.load(sys.stdin)
    json.dump(check_all(request["answers"], request["key"]), sys.stdout)


if __name__ == "__main__":
    main()

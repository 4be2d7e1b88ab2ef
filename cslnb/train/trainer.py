"""The one training loop for every dataset and loss.

Per epoch: set the learning rate of the recipe, call the loss's ``start_epoch`` hook, train on
the long-tailed split, call ``end_epoch``, evaluate on the balanced test split when the profile
says so (always after the last epoch), and save a checkpoint. The run record is written once,
atomically, after the last epoch; the headline number is the last epoch's accuracy, and the best
epoch is recorded separately, labelled as selected on the test split.
"""

from __future__ import annotations

import contextlib
import math
import platform
import shutil
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm

import cslnb
from cslnb.data import shot_groups
from cslnb.losses import build_loss
from cslnb.models import build_model
from cslnb.paths import project_root
from cslnb.profiles import PAPER_LARGE_MODELS, Profile, get_profile
from cslnb.records import SCHEMA_VERSION, read_record, record_path, write_json_atomic
from cslnb.train import distributed
from cslnb.train.budget import EpochBudget
from cslnb.train.checkpoint import (
    exclusive_run_lock,
    load_checkpoint,
    lock_file_for,
    save_checkpoint,
)
from cslnb.train.config import FOLDER_DATASETS, RunConfig, TrainOptions
from cslnb.train.determinism import deterministic_mode
from cslnb.train.device import (
    Precision,
    describe_hardware,
    pick_device,
    pick_precision,
    use_device,
)
from cslnb.train.epoch_estimate import first_epoch_estimate
from cslnb.train.execution import Execution, choose_execution, segment
from cslnb.train.metrics import (
    group_accuracy,
    overall_accuracy,
    per_class_accuracy,
    prediction_counts,
)
from cslnb.train.pipeline import DataPipeline, build_pipeline
from cslnb.train.recipes import Recipe, recipe_for
from cslnb.train.state import TrainingState
from cslnb.train.step import TrainStep, autocast, use_step_graph


class TrainingDivergedError(FloatingPointError):
    """The loss became NaN or infinite at ``epoch`` (1-based), ``batch`` (1-based): the run stops.

    :func:`train` turns it into a run record with status ``diverged`` (:func:`_diverged`).
    """

    def __init__(self, message: str, epoch: int, batch: int, loss: float) -> None:
        super().__init__(message)
        self.epoch, self.batch, self.loss = epoch, batch, loss


def checkpoint_path(config: RunConfig, options: TrainOptions) -> Path:
    root = options.checkpoint_root or project_root() / "runs"
    return root / config.profile / config.run_id / "last.pt"


def model_name(config: RunConfig, profile: Profile) -> str:
    """ResNet-32 family for CIFAR (depth set by the profile); on the large sets the profile's
    ``large_model``, by default the paper's ResNet-18 (Tiny-ImageNet-LT) or ResNet-50."""
    if config.dataset in FOLDER_DATASETS:
        return profile.large_model or PAPER_LARGE_MODELS[config.dataset]
    return f"resnet{profile.cifar_depth}"


def run_epochs(config: RunConfig, profile: Profile) -> int:
    return profile.large_epochs if config.dataset in FOLDER_DATASETS else profile.epochs


def train(config: RunConfig, options: TrainOptions | None = None) -> dict[str, Any] | None:
    """Train one run to completion (resuming from its checkpoint) and return its record.

    Returns the existing record without training when it exists and ``options.force`` is off;
    a record with status ``diverged`` when the loss became NaN or infinite (an outcome, not a
    crash: the next call does not retrain it); and ``None`` when ``options.stop_after_epochs`` or
    ``options.deadline`` stopped the run before its last epoch (its checkpoint is kept; the next
    call resumes).
    """
    options = options or TrainOptions()
    profile = get_profile(config.profile)
    out_path = record_path(profile.name, config.dataset, config.run_id, options.results_root)
    if out_path.exists() and not options.force:
        return read_record(out_path)

    dist_info = distributed.setup()
    ckpt = checkpoint_path(config, options)
    lock = (
        exclusive_run_lock(lock_file_for(ckpt)) if dist_info.is_main else contextlib.nullcontext()
    )
    try:
        with lock, deterministic_mode(options.deterministic):
            return _train(config, options, profile, out_path, dist_info)
    finally:
        distributed.teardown(dist_info)


def _train(
    config: RunConfig,
    options: TrainOptions,
    profile: Profile,
    out_path: Path,
    dist_info: distributed.DistInfo,
) -> dict[str, Any] | None:
    device = pick_device(options.device)
    if dist_info.enabled and device.type == "cuda":
        device = torch.device("cuda", dist_info.local_rank)
    use_device(device)
    precision = pick_precision(device, config.amp)
    recipe = recipe_for(config.dataset, config.loss).scaled(run_epochs(config, profile))
    batch_size = profile.batch_size if config.dataset not in FOLDER_DATASETS else recipe.batch_size

    torch.manual_seed(config.seed)
    data = build_pipeline(config, profile, device, batch_size, options, dist_info)
    groups = shot_groups(data.class_counts)
    total_steps = recipe.epochs * math.ceil(sum(data.class_counts) / batch_size)
    execution = choose_execution(options.compile, options.channels_last, device, total_steps)
    state = _fresh_state(config, profile, recipe, data, device, precision, execution)
    ckpt = checkpoint_path(config, options)
    if ckpt.exists() and not options.force:
        state.restore(
            load_checkpoint(ckpt), ckpt, allow_precision_change=options.allow_precision_change
        )
    elif ckpt.parent.exists() and dist_info.is_main:
        shutil.rmtree(ckpt.parent)
    forward_model = _forward_model(state.model, execution, device, dist_info)
    use_graph = use_step_graph(
        options.cuda_graph,
        device,
        precision,
        distributed=dist_info.enabled,
        total_steps=total_steps,
        compiled=execution.compile,
    )
    state.note_execution(
        segment(
            state.epoch + 1,
            execution,
            device,
            precision,
            use_graph,
            deterministic=options.deterministic,
        )
    )
    step = TrainStep(
        forward_model,
        state.loss_fn,
        state.optimizer,
        state.scaler,
        device,
        precision,
        channels_last=execution.channels_last,
        use_graph=use_graph,
    )

    end_epoch = recipe.epochs
    if options.stop_after_epochs is not None:
        end_epoch = min(end_epoch, state.epoch + options.stop_after_epochs)
    bar = tqdm(
        range(state.epoch, end_epoch),
        initial=state.epoch,
        total=recipe.epochs,
        desc=config.run_id,
        disable=not (options.progress and dist_info.is_main),
        unit="epoch",
    )
    if options.on_epoch is not None:
        options.on_epoch(state.epoch, recipe.epochs)
    estimate = state.elapsed / state.epoch if state.epoch else None
    if estimate is None and options.deadline is not None:
        estimate = first_epoch_estimate(
            config.dataset,
            profile,
            model_name(config, profile),
            sum(data.class_counts),
            data.num_test,
            device,
            use_graph,
        )
    budget = EpochBudget(options.deadline, estimate, dist_info, device)
    divergence: dict[str, Any] | None = None
    for epoch in bar:
        if not budget.allows_epoch():
            break
        tic = time.perf_counter()
        lr = recipe.lr_at(epoch + 1)
        for group in state.optimizer.param_groups:
            group["lr"] = lr
        state.loss_fn.start_epoch(epoch)
        try:
            train_loss, train_acc = _train_epoch(step, data, epoch, config)
        except TrainingDivergedError as error:
            bar.close()
            divergence = _diverged(error, state, ckpt, data, device, precision, groups, execution)
            break
        state.loss_fn.end_epoch(epoch)
        entry: dict[str, Any] = {
            "epoch": epoch + 1,
            "lr": lr,
            "train_loss": distributed.mean_across_ranks(train_loss, dist_info, device),
            "train_accuracy": distributed.mean_across_ranks(train_acc, dist_info, device),
        }
        if (epoch + 1) % profile.eval_every == 0 or epoch + 1 == recipe.epochs:
            entry.update(
                _evaluate(state.model, data, device, precision, groups, execution.channels_last)
            )
        state.history.append(entry)
        if trace := state.loss_fn.epoch_trace():
            state.traces.append({"epoch": epoch + 1, **trace})
        state.epoch = epoch + 1
        state.elapsed += time.perf_counter() - tic
        if "test_accuracy" in entry:
            bar.set_postfix(loss=f"{train_loss:.3f}", test=f"{entry['test_accuracy']:.1f}")
        if dist_info.is_main:
            save_checkpoint(ckpt, state.checkpoint())
        budget.epoch_done()
        if options.on_epoch is not None:
            options.on_epoch(state.epoch, recipe.epochs)
    bar.close()
    if state.epoch < recipe.epochs and divergence is None:
        return None

    record = _build_record(config, profile, recipe, data, state, device, precision, use_graph)
    if divergence is not None:
        record.update(status="diverged", divergence=divergence)
    if dist_info.is_main:
        write_json_atomic(out_path, record)
        if not options.keep_checkpoint:
            shutil.rmtree(ckpt.parent, ignore_errors=True)
    distributed.barrier(dist_info)
    return record


def _fresh_state(
    config: RunConfig,
    profile: Profile,
    recipe: Recipe,
    data: DataPipeline,
    device: torch.device,
    precision: Precision,
    execution: Execution,
) -> TrainingState:
    """Loss, model (seeded by the caller), SGD optimiser and gradient scaler at epoch 0."""
    loss_fn = build_loss(
        config.loss,
        data.class_counts,
        drw_epoch=recipe.drw_epoch,
        ib_start_epoch=recipe.ib_start_epoch,
        **config.loss_options,
    ).to(device)
    model = build_model(
        model_name(config, profile),
        len(data.class_names),
        cosine_head=loss_fn.needs_cosine_head,
        pretrained=config.pretrained,
        **({} if config.dataset in FOLDER_DATASETS else {"width": profile.cifar_width}),
    ).to(device)
    if execution.channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(
        model.parameters(),
        lr=recipe.lr,
        momentum=recipe.momentum,
        weight_decay=recipe.weight_decay,
    )
    scaler = torch.amp.GradScaler(device.type, enabled=precision.use_scaler)
    return TrainingState(
        config, model, loss_fn, optimizer, scaler, device=device, precision=precision.label
    )


def _forward_model(
    model: nn.Module, execution: Execution, device: torch.device, dist_info: distributed.DistInfo
) -> nn.Module:
    """What the training batches go through: ``model``, wrapped in DDP and compiled if asked."""
    if dist_info.enabled:
        model = DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None
        )
    if execution.compile:
        model = torch.compile(model)
    return model


def _train_epoch(
    step: TrainStep, data: DataPipeline, epoch: int, config: RunConfig
) -> tuple[float, float]:
    """One pass over the training batches; returns (mean loss, accuracy %) over the epoch.

    The steps never wait for the device; the epoch's totals are read once at its end. A loss
    that became NaN or infinite at any step raises :class:`TrainingDivergedError` then, before
    the epoch's statistics, evaluation and checkpoint, so the last checkpoint kept is the
    previous epoch's.
    """
    step.model.train()
    step.start_epoch()
    for images, labels in data.train_batches(epoch):
        step(images, labels)
    totals = step.finish_epoch()
    if totals.first_nonfinite_step is not None:
        batch, loss = totals.first_nonfinite_step + 1, totals.first_nonfinite_loss
        raise TrainingDivergedError(
            f"{config.loss} loss became {loss} at epoch {epoch + 1}, batch {batch} of run "
            f"{config.run_id}",
            epoch=epoch + 1,
            batch=batch,
            loss=float(loss if loss is not None else math.nan),
        )
    return totals.mean_loss, totals.accuracy


def _diverged(
    error: TrainingDivergedError,
    state: TrainingState,
    ckpt: Path,
    data: DataPipeline,
    device: torch.device,
    precision: Precision,
    groups: list[str],
    execution: Execution,
) -> dict[str, Any]:
    """Prepare ``state`` for the record of a diverged run and say where it diverged.

    The weights are no longer finite, so the state goes back to the last checkpoint (the last
    finite epoch, which this call or an earlier one saved). That epoch is evaluated if the
    profile's schedule skipped it, so the record's ``final`` is the last finite model's accuracy.
    """
    if ckpt.exists():
        state.restore(load_checkpoint(ckpt), ckpt)
        last = state.history[-1]
        if "test_accuracy" not in last:
            last.update(
                _evaluate(state.model, data, device, precision, groups, execution.channels_last)
            )
    return {
        "epoch": error.epoch,
        "batch": error.batch,
        "loss": None if math.isnan(error.loss) else str(error.loss),
        "note": f"loss non-finite at epoch {error.epoch}, batch {error.batch}; history, traces "
        "and accuracy are those of the last finite epoch",
    }


@torch.no_grad()
def _evaluate(
    model: nn.Module,
    data: DataPipeline,
    device: torch.device,
    precision: Precision,
    groups: list[str],
    channels_last: bool,
) -> dict[str, Any]:
    """Accuracy on the balanced test split, and how many test samples each class is predicted
    for. Never touches the loss or its statistics."""
    model.eval()
    predictions, labels = [], []
    for images, target in data.test_batches():
        if channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        with autocast(device, precision):
            logits = model(images)
        predictions.append(logits.argmax(dim=1))
        labels.append(target)
    pred, true = torch.cat(predictions).cpu(), torch.cat(labels).cpu()
    per_class = per_class_accuracy(pred, true, len(data.class_names))
    return {
        "test_accuracy": overall_accuracy(pred, true),
        "per_class_accuracy": per_class,
        "group_accuracy": group_accuracy(per_class, groups),
        "per_class_predicted": prediction_counts(pred, len(data.class_names)),
    }


def _build_record(
    config: RunConfig,
    profile: Profile,
    recipe: Recipe,
    data: DataPipeline,
    state: TrainingState,
    device: torch.device,
    precision: Precision,
    cuda_graph: bool,
) -> dict[str, Any]:
    history, traces, elapsed = state.history, state.traces, state.elapsed
    evaluated = [h for h in history if "test_accuracy" in h]
    no_accuracy = {
        "epoch": 0,
        "test_accuracy": None,
        "per_class_accuracy": [None] * len(data.class_names),
        "group_accuracy": {},
    }
    last = evaluated[-1] if evaluated else no_accuracy
    best = max(evaluated, key=lambda h: h["test_accuracy"]) if evaluated else no_accuracy
    record: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "run_id": config.run_id,
        "status": "finished",
        "config": config.to_dict(),
        "profile": profile.to_dict(),
        "recipe": recipe.to_dict(),
        "model": model_name(config, profile),
        "dataset": {
            "name": data.name,
            "source": data.source,
            "fingerprint": data.fingerprint,
            "class_names": data.class_names,
            "class_counts": data.class_counts,
            "groups": shot_groups(data.class_counts),
            "num_train": sum(data.class_counts),
            "num_test": data.num_test,
        },
        "final": {
            "epoch": last["epoch"],
            "accuracy": last["test_accuracy"],
            "per_class_accuracy": last["per_class_accuracy"],
            "group_accuracy": last["group_accuracy"],
            **_predicted_if_recorded(last),
        },
        "best": {
            "note": "best epoch selected on the test split: optimistic, not the headline",
            "epoch": best["epoch"],
            "accuracy": best["test_accuracy"],
        },
        "epochs": history,
        "versions": {
            "cslnb": cslnb.__version__,
            "torch": torch.__version__,
            "python": platform.python_version(),
        },
        "hardware": describe_hardware(device),
        "precision": precision.label,
        "cuda_graph": cuda_graph,
        "execution": state.execution,
        "wall_time_s": round(elapsed, 2),
        "images_per_s": round(sum(data.class_counts) * len(history) / max(elapsed, 1e-9), 1),
    }
    if traces:
        record["loss_trace"] = traces
    return _round_floats(record)


def _predicted_if_recorded(evaluation: dict[str, Any]) -> dict[str, Any]:
    """``per_class_predicted`` of an evaluation, if it has one: the placeholder of a run that
    diverged before its first evaluation lacks it, as do the evaluations of a run resumed from a
    checkpoint written before the field existed."""
    if "per_class_predicted" in evaluation:
        return {"per_class_predicted": evaluation["per_class_predicted"]}
    return {}


def _round_floats(value: Any, decimals: int = 6, significant: int = 4) -> Any:
    """Round floats for compact records: to ``decimals`` places, or to more where a value is so
    small that fewer than ``significant`` digits would survive (IB's learning rate 1e-7 stays
    1e-7 instead of becoming 0); NaN becomes None (JSON has no NaN)."""
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value == 0 or math.isinf(value):
            return value
        magnitude = math.floor(math.log10(abs(value)))
        return round(value, max(decimals, significant - 1 - magnitude))
    if isinstance(value, dict):
        return {k: _round_floats(v, decimals, significant) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_round_floats(v, decimals, significant) for v in value]
    return value

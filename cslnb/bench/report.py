"""The plain-text table ``python -m cslnb bench`` prints from a bench record."""

from __future__ import annotations

from typing import Any


def _header(record: dict[str, Any]) -> list[str]:
    hw = record["hardware"]
    return [
        f"cslnb bench on {hw['device']} ({hw['processor']}, {hw['cpu_count']} CPUs, "
        f"{hw['torch_threads']} torch threads{', ' + hw['gpu'] if 'gpu' in hw else ''}), "
        f"torch {record['torch']}, quick={record['settings']['quick']}, "
        f"wall {record['wall_time_s']:.0f} s",
    ]


def _losses(section: dict[str, Any]) -> list[str]:
    lines = [
        f"1. Losses: {section['model']}, batch {section['batch_size']}; step medians of "
        f"{section['step_repetitions']} interleaved rounds, loss-only medians of "
        f"{section['loss_only_repetitions']} x {section['loss_only_calls_per_repetition']} calls",
        f"{'loss':<18}{'step s':>9}{'step/CE':>9}{'loss us':>10}{'loss/CE':>9}{'step/CE est.':>14}",
    ]
    for label, row in section["rows"].items():
        lines.append(
            f"{label:<18}{row['step_median_s']:>9.3f}{row['step_ratio']:>9.3f}"
            f"{row['loss_only_us']:>10.0f}{row['loss_only_ratio']:>9.2f}"
            f"{row['step_ratio_from_loss_only']:>14.4f}"
        )
    target = section["csl_target"]
    verdict = "met" if target["met"] else "NOT met"
    estimate = "met" if target["met_by_loss_only_estimate"] else "NOT met"
    lines.append(
        f"CSL (paper reading) step/CE {target['step_ratio']:.3f}: target <= "
        f"{target['max_step_ratio']} {verdict} (loss-only estimate: {estimate})"
    )
    return lines


def _released(section: dict[str, Any]) -> list[str]:
    lines = [
        f"2. Released CSL, naive (history re-read every call) vs ours (fixed buffers): "
        f"{section['batches_per_epoch']} calls of {section['batch_size']} per epoch",
        f"{'epoch':>5}{'naive ms/call':>15}{'ours ms/call':>14}{'naive bytes':>13}"
        f"{'ours bytes':>12}{'max rel diff':>14}",
    ]
    for row in section["epochs"]:
        lines.append(
            f"{row['epoch']:>5}{row['naive_ms_per_call']:>15.2f}{row['ours_ms_per_call']:>14.3f}"
            f"{row['naive_bytes']:>13,}{row['ours_bytes']:>12,}{row['max_rel_diff']:>14.1e}"
        )
    lines.append(
        f"time per call, last epoch / first: naive {section['naive_time_growth']:.1f}x, "
        f"ours {section['ours_time_growth']:.2f}x"
    )
    return lines


def _loader(section: dict[str, Any]) -> list[str]:
    lines = [
        f"3. Loader: {section['images']} synthetic images, batch {section['batch_size']}, "
        f"median of {section['epochs']} epochs",
        f"{'loader':<26}{'images/s':>10}{'GPULoader speed-up':>20}",
    ]
    for name, rate in section["images_per_s"].items():
        speedup = section["speedup"].get(name)
        shown = f"{speedup:>19.1f}x" if speedup is not None else ""
        lines.append(f"{name:<26}{rate:>10.0f}{shown}")
    return lines


def _gpu(section: dict[str, Any]) -> list[str]:
    if "skipped" in section:
        return [f"4. GPU training: skipped ({section['skipped']})"]
    lines = [
        f"4. GPU training: {section['model']}, batch {section['batch_size']}, "
        f"{section['amp']}, {section['run_epochs']} epochs x {section['epoch_images']} images",
        f"{'config':<18}{'images/s':>10}{'s per run':>11}{'warm-up s':>11}",
    ]
    for config in section["configs"]:
        name = f"{'compile' if config['compile'] else 'eager'} x{config['models']}"
        if "error" in config:
            lines.append(f"{name:<18} failed: {config['error']}")
        else:
            lines.append(
                f"{name:<18}{config['images_per_s']:>10.0f}{config['s_per_run']:>11.0f}"
                f"{config['warmup_s']:>11.1f}"
            )
    return lines


def format_table(record: dict[str, Any]) -> str:
    """All four sections of ``record`` as a plain-text table."""
    blocks = [
        _header(record),
        _losses(record["losses"]),
        _released(record["released_csl"]),
        _loader(record["loader"]),
        _gpu(record["gpu"]),
    ]
    return "\n\n".join("\n".join(block) for block in blocks)

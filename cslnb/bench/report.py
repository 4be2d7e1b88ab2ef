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


def _rate_line(name: str, result: dict[str, Any], fields: str) -> str:
    return f"{name:<22} failed: {result['error']}" if "error" in result else f"{name:<22}{fields}"


def gpu_lines(section: dict[str, Any]) -> list[str]:
    """Section 4 of a bench record as lines of text (also shown by the book)."""
    if "skipped" in section:
        return [f"4. GPU training: skipped ({section['skipped']})"]
    lines = [
        f"4. GPU training on {section['device']}: {section['model']}, batch "
        f"{section['batch_size']}, {section['precision']}, torch {section['torch']}; "
        f"{section['timed_epochs']} timed epochs of {section['epoch_images']} images; "
        f"MPS {'on' if section.get('mps', {}).get('active') else 'off'}",
        f"{'one run':<22}{'ms/step':>9}{'images/s':>10}{'1st epoch s':>12}"
        f"{'pool MiB':>10}{'GPU MiB':>10}",
    ]
    for name, result in section["step"].items():
        fields = (
            f"{result['step_ms']:>9.2f}{result['images_per_s']:>10.0f}"
            f"{result['first_epoch_s']:>12.1f}{result['peak_reserved_mib']:>10.0f}"
            f"{result['device_used_mib']:>10.0f}"
        )
        lines.append(_rate_line(name, result, fields))
    evaluation = section["evaluation"]
    lines.append(
        _rate_line("evaluation", evaluation, f"{'':>9}{evaluation.get('images_per_s', 0):>10.0f}")
    )
    lines.append(
        f"{'runs at once':<22}{'images/s':>10}{'per run':>10}{'pool MiB':>10}{'GPU MiB':>10}"
    )
    for result in section["concurrent"]:
        name = f"{result['jobs']} ({'graph' if result.get('cuda_graph') else 'eager'})"
        fields = ""
        if "error" not in result:
            per_run = sum(result["per_run_images_per_s"]) / len(result["per_run_images_per_s"])
            fields = (
                f"{result['images_per_s']:>10.0f}{per_run:>10.0f}"
                f"{result['peak_reserved_mib']:>10.0f}{result['device_used_mib']:>10.0f}"
            )
        lines.append(_rate_line(name, result, fields))
    if (deterministic := section.get("deterministic")) is not None:
        fields = (
            f" {deterministic.get('deterministic_images_per_s', 0):.0f} images/s against "
            f"{deterministic.get('default_images_per_s', 0):.0f} "
            f"({deterministic.get('slowdown', 0):.2f}x slower)"
        )
        lines.append(_rate_line("--deterministic", deterministic, fields))
    if projection := section.get("projection"):
        shown = ", ".join(
            f"{jobs} jobs {seconds / 60:.1f} min"
            for jobs, seconds in projection["wall_s_by_jobs"].items()
        )
        lines.append(
            f"projected wall time of the {projection['runs']} CIFAR-10 runs of Tables 1-2 "
            f"(paper profile): {shown}"
        )
    return lines


def cpu_epoch_lines(section: dict[str, Any]) -> list[str]:
    """Section ``cpu_epoch``: images/s per mode and precision, the auto choice, the projection."""
    lines = [
        f"5. Paper epoch on CPU: {section['model']}, batch {section['batch_size']}, "
        f"{section['threads']} thread(s) per run; training images/s (ratio to eager, warm-up s)",
        f"{'mode':<24}" + "".join(f"{label:>24}" for label in section["modes"]),
    ]
    names = list(next(iter(section["modes"].values())))
    for name in names:
        cells = "".join(
            f"{row[name]['images_per_s']:>9.0f} ({row[name]['ratio_to_eager']:.2f}x, "
            f"{row[name]['warmup_s']:>4.1f}s)"
            for row in section["modes"].values()
        )
        lines.append(f"{name:<24}{cells}")
    for label, rates in section["evaluation"].items():
        lines.append(
            f"evaluation {label}: {rates['eager']:.0f} images/s, "
            f"channels_last {rates['channels_last']:.0f}"
        )
    auto, plan = section["auto"], section["projection"]
    lines.append(
        f"auto picks {auto['picked']} at {auto['precision']}; fastest measured: "
        f"{auto['fastest_measured']}"
    )
    hours = ", ".join(f"{ir.upper()} {h:.2f} h" for ir, h in plan["run_hours"].items())
    lines.append(
        f"paper run: {hours}; campaign of {plan['runs']} runs: {plan['cpu_hours']:.1f} CPU-hours, "
        f"{plan['wall_hours']:.1f} h on {plan['cores']} cores (one run per core)"
    )
    return lines


def format_table(record: dict[str, Any]) -> str:
    """The sections of ``record`` (all five, or those it was limited to) as plain text."""
    sections = (
        ("losses", _losses),
        ("released_csl", _released),
        ("loader", _loader),
        ("gpu", gpu_lines),
        ("cpu_epoch", cpu_epoch_lines),
    )
    blocks = [_header(record)]
    blocks += [lines(record[name]) for name, lines in sections if name in record]
    return "\n\n".join("\n".join(block) for block in blocks)

"""``python -m cslnb bench``: what the losses, the CSL state and the data path cost here.

One run measures, side by side on the current machine, and prints a table:

1. ``losses`` (:mod:`cslnb.bench.losses`): training-step time of the CIFAR ResNet with every
   loss of ``LOSS_NAMES`` (plus CSL's released reading) as a ratio to CE, and the loss-only cost
   (forward + backward of the loss on fixed logits and features).
2. ``released_csl`` (:mod:`cslnb.bench.released`): the naive released CSL (history re-read on
   every call) against ``CSLLoss(reading="released")`` over the first epochs of CIFAR-10-LT
   IR100: time per call and memory held, per epoch.
3. ``loader`` (:mod:`cslnb.bench.loader`): ``GPULoader`` against a torchvision ``DataLoader``
   with per-sample transforms, images per second.
4. ``gpu`` (:mod:`cslnb.bench.gpu`, CUDA only): the trainer's step on ResNet-32, eager and
   replayed as a CUDA graph; 1, 4, 8 and 16 runs at once in separate processes; peak memory;
   the projected wall time of the 28 CIFAR-10 runs of Tables 1–2 at the ``paper`` profile.
5. ``cpu_epoch`` (:mod:`cslnb.bench.cpu_epoch`): the ``paper`` ResNet-32 step on one CPU thread
   in every execution mode (eager, channels_last, ``torch.compile``) at bf16 and fp32, the
   evaluation rate, what ``--compile/--channels-last auto`` picks, and the projected hours of
   the paper-scale CPU campaign.

The record goes to ``<out_dir or bench_dir()>/bench-<device kind>-<UTC timestamp>.json``;
:func:`load_latest_bench` reads the newest one back.
"""

from cslnb.bench.record import load_latest_bench
from cslnb.bench.runner import run_bench

__all__ = ["load_latest_bench", "run_bench"]

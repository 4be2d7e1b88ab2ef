"""A synthetic long-tailed image dataset that a small ResNet learns in seconds on a CPU.

Class ``c`` of ``C`` is a sinusoidal grating with its own colour (hue ``c / C``), orientation
(golden-angle steps, ``theta_c = c * 137.5 deg``) and spatial frequency (1 to 3 cycles per image,
cycling every 3 classes); every image gets a random phase, a random brightness and Gaussian
pixel noise. The training split follows the LDAM-DRW long-tailed profile
(:func:`long_tail_counts`); the test split is balanced.
"""

from __future__ import annotations

import colorsys
import math

import torch

from cslnb.data.fingerprint import fingerprint_arrays
from cslnb.data.longtail import long_tail_counts
from cslnb.data.types import ImageArrays, LongTailArrays

_GOLDEN_ANGLE = math.radians(137.5)
_NOISE_STD = 0.12


def _class_images(
    c: int, num_classes: int, n: int, size: int, gen: torch.Generator
) -> torch.Tensor:
    """``n`` uint8 images ``(n, 3, size, size)`` of class ``c``."""
    colour = torch.tensor(colorsys.hsv_to_rgb(c / num_classes, 0.8, 0.9)).view(1, 3, 1, 1)
    theta = c * _GOLDEN_ANGLE
    cycles = 1.0 + (c % 3)
    coords = torch.arange(size, dtype=torch.float32) / size
    projection = coords.view(-1, 1) * math.sin(theta) + coords.view(1, -1) * math.cos(theta)
    phase = torch.rand(n, 1, 1, 1, generator=gen) * 2 * math.pi
    grating = 0.5 + 0.5 * torch.sin(2 * math.pi * cycles * projection + phase)
    brightness = 0.7 + 0.3 * torch.rand(n, 1, 1, 1, generator=gen)
    noise = _NOISE_STD * torch.randn(n, 3, size, size, generator=gen)
    pixels = brightness * (0.25 + 0.75 * grating) * colour + noise
    return (pixels.clamp(0, 1) * 255).round().to(torch.uint8)


def _split(counts: list[int], size: int, gen: torch.Generator) -> ImageArrays:
    num_classes = len(counts)
    images = [_class_images(c, num_classes, n, size, gen) for c, n in enumerate(counts)]
    labels = torch.repeat_interleave(torch.arange(num_classes), torch.tensor(counts))
    return ImageArrays(images=torch.cat(images), labels=labels)


def make_synthetic_lt(
    num_classes: int = 10,
    n_max: int = 200,
    ratio: float = 10,
    image_size: int = 16,
    test_per_class: int = 20,
    seed: int = 0,
    imb_type: str = "exp",
) -> LongTailArrays:
    """A long-tailed synthetic dataset; train counts from :func:`long_tail_counts`."""
    counts = long_tail_counts(n_max, num_classes, ratio, imb_type)
    gen = torch.Generator().manual_seed(seed)
    train = _split(counts, image_size, gen)
    test = _split([test_per_class] * num_classes, image_size, gen)
    return LongTailArrays(
        name="synthetic",
        class_names=[f"class{c}" for c in range(num_classes)],
        class_counts=counts,
        train=train,
        test=test,
        source="synthetic",
        meta={"ratio": ratio, "imb_type": imb_type, "seed": seed, "n_max": n_max},
        fingerprint=fingerprint_arrays(train.images, train.labels),
    )

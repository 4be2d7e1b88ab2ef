"""torchvision transforms for the large datasets (Tiny-ImageNet-LT, ImageNet-LT).

Two augmentations (:data:`LARGE_AUGMENTATIONS`, chosen by the profile's ``large_augmentation``):

* ``resized-crop`` -- the standard ImageNet recipe (He et al. 2016; used by OLTR, Liu et al. 2019,
  and by the decoupling baselines): training takes a random resized crop and a horizontal flip,
  evaluation resizes the short side to ``size * 8 / 7`` (256 for 224) and takes the central
  ``size`` crop.
* ``flip`` -- the whole image (short side resized to ``size``, central square), flipped at
  random in training, as is in evaluation: the CPU ``quick`` setting, where a few epochs must
  let the network fit its training set (as ``quick`` does on CIFAR).
"""

from __future__ import annotations

from torchvision import transforms

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
LARGE_AUGMENTATIONS = ("resized-crop", "flip")


def large_train_transform(size: int) -> transforms.Compose:
    """RandomResizedCrop(size), horizontal flip, ToTensor, ImageNet normalisation."""
    return transforms.Compose(
        [
            transforms.RandomResizedCrop(size),
            transforms.RandomHorizontalFlip(),
            transforms.ToTensor(),
            transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
        ]
    )


def large_eval_transform(size: int) -> transforms.Compose:
    """Resize(round(size * 8 / 7)), CenterCrop(size), ToTensor, ImageNet normalisation."""
    return transforms.Compose(
        [
            transforms.Resize(round(size * 8 / 7)),
            transforms.CenterCrop(size),
            transforms.ToTensor(),
            transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
        ]
    )


def whole_image_transform(size: int, flip: bool) -> transforms.Compose:
    """Resize(size), CenterCrop(size) (the identity on a square ``size`` image), a random
    horizontal flip when ``flip``, ToTensor, ImageNet normalisation."""
    steps = [transforms.Resize(size), transforms.CenterCrop(size)]
    if flip:
        steps.append(transforms.RandomHorizontalFlip())
    return transforms.Compose(
        [*steps, transforms.ToTensor(), transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD)]
    )


def large_transforms(augmentation: str, size: int) -> tuple[transforms.Compose, transforms.Compose]:
    """(training, evaluation) transforms of ``augmentation`` (see the module docstring)."""
    if augmentation == "resized-crop":
        return large_train_transform(size), large_eval_transform(size)
    if augmentation == "flip":
        return whole_image_transform(size, flip=True), whole_image_transform(size, flip=False)
    known = ", ".join(LARGE_AUGMENTATIONS)
    raise ValueError(f"unknown large_augmentation {augmentation!r}; choose one of: {known}")

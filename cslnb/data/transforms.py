"""torchvision transforms for the large datasets (Tiny-ImageNet-LT, ImageNet-LT).

The standard ImageNet recipe (He et al. 2016; used by OLTR, Liu et al. 2019, and by the
decoupling baselines): training takes a random resized crop and a horizontal flip, evaluation
resizes the short side to ``size * 8 / 7`` (256 for 224) and takes the central ``size`` crop.
"""

from __future__ import annotations

from torchvision import transforms

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


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

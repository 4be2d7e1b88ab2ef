"""Long-tailed datasets: CIFAR-10/100-LT and a synthetic stand-in held in memory with a device
loader, and Tiny-ImageNet-LT / ImageNet-LT as file-backed torchvision-style datasets."""

from cslnb.data.cifar import build_cifar_lt, load_cifar_arrays
from cslnb.data.folders import ImageNetLT, TinyImageNetLT, read_split_file
from cslnb.data.gpu_loader import CIFAR_MEAN, CIFAR_STD, GPULoader
from cslnb.data.in_memory import IN_MEMORY_DATASETS, build_in_memory_dataset
from cslnb.data.longtail import (
    CIFAR_CLASS_NAMES,
    cifar_lt_counts,
    long_tail_counts,
    select_long_tail_indices,
    shot_groups,
)
from cslnb.data.preprocess import resize_images, take_per_class
from cslnb.data.synthetic import make_synthetic_lt
from cslnb.data.tiny_tree import TinyTreeError
from cslnb.data.transforms import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    LARGE_AUGMENTATIONS,
    large_eval_transform,
    large_train_transform,
    large_transforms,
)
from cslnb.data.types import ImageArrays, LongTailArrays

__all__ = [
    "CIFAR_CLASS_NAMES",
    "CIFAR_MEAN",
    "CIFAR_STD",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "IN_MEMORY_DATASETS",
    "LARGE_AUGMENTATIONS",
    "GPULoader",
    "ImageArrays",
    "ImageNetLT",
    "LongTailArrays",
    "TinyImageNetLT",
    "TinyTreeError",
    "build_cifar_lt",
    "build_in_memory_dataset",
    "cifar_lt_counts",
    "large_eval_transform",
    "large_train_transform",
    "large_transforms",
    "load_cifar_arrays",
    "long_tail_counts",
    "make_synthetic_lt",
    "read_split_file",
    "resize_images",
    "select_long_tail_indices",
    "shot_groups",
    "take_per_class",
]

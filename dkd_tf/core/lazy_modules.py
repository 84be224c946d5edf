"""Modules imported on first use, so that a command checks its input before TensorFlow loads.

    transforms = lazy_modules.module("dkd_tf.data.transforms")   # nothing imported yet
    transforms.CROP_MARGIN                                        # imported here, once

Importing TensorFlow takes about 5 s; a command that imports it at the top spends that before it
can say that its --video or --export_dir does not exist. dkd_tf.stream, export.verify,
export.tflite and export.onnx check their files first (cheap, file reads only) and reach
TensorFlow through these proxies only once a model is opened. Kept to the modules that pull
TensorFlow in; everything else is imported as usual.
"""
from __future__ import annotations

import importlib


class LazyModule:
    """Stands for module `name`; the first attribute read imports it (then sys.modules has it)."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr):
        return getattr(importlib.import_module(self._name), attr)

    def __repr__(self):
        return f"<lazy module {self._name!r}>"


def module(name: str) -> LazyModule:
    return LazyModule(name)

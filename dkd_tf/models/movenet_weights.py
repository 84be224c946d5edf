"""MoveNet's published weights mapped onto dkd_tf.models.movenet's Keras layers, by name.

MoveNet's graph has batch norm folded into conv biases (`<layer>/Conv2D_bn_offset`); a Keras
MobileNetV2 conv is bias-free and followed by batch norm, which here gets gamma 1, beta = the
folded bias, mean 0, variance 1 - eps: BN(y) = y + bias exactly. The classifier maps MoveNet's
17 COCO keypoint channels onto a joint set by name; a joint COCO lacks (neck, head top) starts
from the mean of the channels of its nearest COCO joints (NEAREST_COCO).
"""
from __future__ import annotations

import json
import os

import keras
import numpy as np

from dkd_tf.core.joints import JointSet
from dkd_tf.models import movenet
from dkd_tf.pretrained import fetch, tfjs
from dkd_tf.pretrained.peers import COCO_NAMES  # MoveNet's 17 heatmap channels, in order

NEAREST_COCO = {"head": ("nose",), "head_top": ("l_ear", "r_ear"), "face": ("nose",),
                "neck": ("l_shoulder", "r_shoulder"), "upper_neck": ("l_shoulder", "r_shoulder"),
                "thorax": ("l_shoulder", "r_shoulder"), "belly": ("l_hip", "r_hip"),
                "pelvis": ("l_hip", "r_hip")}
_FPN = "StatefulPartitionedCall/center_net_mobile_net_v2fpn_feature_extractor/model_1/"
_BACKBONE = _FPN + "model/"
_HEAD = "StatefulPartitionedCall/kpt_heatmap_0/"


def published_weights(backbone: str) -> dict[str, np.ndarray]:
    """{graph constant name: array} of the MoveNet model a movenet_* backbone comes from."""
    path = fetch.fetch(backbone)
    with open(path) as f:
        model_json = json.load(f)
    return tfjs.read_weights(model_json, os.path.dirname(path), path)


def _bn_for(model: keras.Model, conv_name: str):
    for name in (f"{conv_name}_BN", f"bn_{conv_name}", f"{conv_name}_bn"):
        try:
            return model.get_layer(name)
        except ValueError:
            continue
    raise ValueError(f"no batch norm after {conv_name}")


def _set(layer, *arrays):
    want = [tuple(w.shape) for w in layer.weights]
    got = [a.shape for a in arrays]
    if want != got:
        raise ValueError(f"{layer.name}: MoveNet's weights have shapes {got}, the layer {want}")
    layer.set_weights(list(arrays))


def map_backbone(backbone_model: keras.Model, weights: dict) -> int:
    """Every conv of the MobileNetV2 with its folded batch norm; returns the convs mapped."""
    mapped = 0
    for layer in backbone_model.layers:
        if isinstance(layer, keras.layers.DepthwiseConv2D):
            key = f"{_BACKBONE}{layer.name}/depthwise"
        elif isinstance(layer, keras.layers.Conv2D):
            key = f"{_BACKBONE}{layer.name}/Conv2D"
        else:
            continue
        _set(layer, weights[key + "_weights"])
        bn = _bn_for(backbone_model, layer.name)
        offset = weights[key + "_bn_offset"]
        ones = np.ones_like(offset)
        _set(bn, ones, offset, np.zeros_like(offset), ones - bn.epsilon)
        mapped += 1
    return mapped


def _classifier(weights: dict, joint_set: JointSet):
    w = weights[_HEAD + "conv2d_5/Conv2D/ReadVariableOp"]  # [1, 1, 96, 17]
    b = weights[_HEAD + "conv2d_5/BiasAdd/ReadVariableOp"]
    idx = []
    for name in joint_set.names:
        sources = (name,) if name in COCO_NAMES else NEAREST_COCO.get(name, ("nose",))
        idx.append([COCO_NAMES.index(s) for s in sources])
    return (np.stack([w[..., i].mean(-1) for i in idx], -1),
            np.array([b[i].mean() for i in idx], np.float32))


def map_into(pose_net: keras.Model, backbone: str, joint_set: JointSet | None = None) -> int:
    """Map the published MoveNet of `backbone` into a movenet_* pose network built by
    dkd_tf.models.pose_net (P, F or a Baseline; `name` prefix free). The keypoint branch and the
    classifier are mapped when their widths are MoveNet's (96 hidden, any joint set); returns
    the number of layers mapped."""
    if backbone not in movenet.MOVENET_BACKBONES:
        raise ValueError(f"{backbone!r} is not one of {sorted(movenet.MOVENET_BACKBONES)}")
    weights = published_weights(backbone)
    prefix = pose_net.name
    mapped = map_backbone(pose_net.get_layer(f"{prefix}_backbone"), weights)
    for ours, theirs in (("fpn_conv2d", "conv2d"), ("fpn_conv2d_1", "conv2d_1"),
                         ("fpn_conv2d_2", "conv2d_2"), ("fpn_conv2d_3", "conv2d_3")):
        _set(pose_net.get_layer(f"{prefix}_{ours}"), weights[f"{_FPN}{theirs}/Conv2D/ReadVariableOp"],
             weights[f"{_FPN}{theirs}/BiasAdd/ReadVariableOp"])
        mapped += 1
    for ours, theirs in (("fpn_separable_conv2d", "separable_conv2d"),
                         ("fpn_separable_conv2d_1", "separable_conv2d_1"),
                         ("fpn_separable_conv2d_2", "separable_conv2d_2")):
        _set(pose_net.get_layer(f"{prefix}_{ours}_dw"),
             weights[f"{_FPN}{theirs}/separable_conv2d/ReadVariableOp"])
        _set(pose_net.get_layer(f"{prefix}_{ours}_pw"),
             weights[f"{_FPN}{theirs}/separable_conv2d_weights"],
             weights[f"{_FPN}{theirs}/separable_conv2d_bn_offset"])
        mapped += 2
    pw = pose_net.get_layer(f"{prefix}_head_pw")
    if pw.filters == 96:
        _set(pose_net.get_layer(f"{prefix}_head_dw"),
             weights[_HEAD + "separable_conv2d_4/separable_conv2d/ReadVariableOp"])
        _set(pw, weights[_HEAD + "separable_conv2d_4/separable_conv2d/ReadVariableOp_1"],
             weights[_HEAD + "separable_conv2d_4/BiasAdd/ReadVariableOp"])
        mapped += 2
        names = [l.name for l in pose_net.layers]
        if joint_set is not None and f"{prefix}_classifier" in names:
            _set(pose_net.get_layer(f"{prefix}_classifier"), *_classifier(weights, joint_set))
            mapped += 1
    return mapped


def reference_features(backbone: str, frames_uint8: np.ndarray) -> np.ndarray:
    """The published graph's FPN output (`re_lu_2`, stride 4) for [1, S, S, 3] uint8 frames:
    what the mapped Keras network must reproduce."""
    import tensorflow as tf
    path = fetch.fetch(backbone)
    fn = tfjs.load_graph_model(path, [_FPN + "re_lu_2/Relu:0"])
    return fn(tf.constant(frames_uint8.astype(np.int32)))[0].numpy()

"""Temporal smoothing of streamed keypoints: the One Euro filter (Casiez, Roussel and Vogel,
CHI 2012), as video pose pipelines apply it (MediaPipe's pose landmarks; the pose-detection
library's MoveNet with enableSmoothing).

Why: a per-frame model's keypoints shake by a pixel or two from frame to frame (heatmap cells
of 8 px, a crop that follows the person); a low-pass filter removes that shake, but a fixed one
lags behind fast limbs. The One Euro filter adapts its cut-off to the speed: slow joints are
smoothed hard, fast ones pass almost unfiltered. Per joint and frame t (one frame = 1 time unit,
so cut-offs are in cycles per frame: 0.1 is 3 Hz at 30 fps):

    alpha(f)   = 1 / (1 + 1 / (2 pi f))                     (a first-order low-pass)
    dx_t       = alpha(d_cutoff) (x_t - s_{t-1}) + (1 - alpha(d_cutoff)) dx_{t-1}
    f_t        = min_cutoff + beta |dx_t| / size_t           (speed in person sizes a frame)
    s_t        = alpha(f_t) x_t + (1 - alpha(f_t)) s_{t-1}

size_t is the person box's longer side, so beta means the same for a near and a far person.
The filter changes only the keypoints reported; the tracker follows the person with the raw ones.
"""
from __future__ import annotations

import numpy as np

# Chosen on clips never used for testing (pose2sim cameras 1-3 labelled by agreeing teachers, and
# 100 LSP training photos set in motion), for DKD and MoveNet Lightning alike: the median joint
# acceleration falls by 45-63 %, PCK@0.2 and @0.1 move by +0.0 to +0.5. Smoother settings shook
# less still on those slow clips but would lag more on fast sports motion (docs/experiments.md,
# "Smoothing the keypoints").
DEFAULT_MIN_CUTOFF = 0.1
DEFAULT_BETA = 4.0
DEFAULT_D_CUTOFF = 0.3


def _alpha(cutoff):
    return 1.0 / (1.0 + 1.0 / (2.0 * np.pi * cutoff))


class OneEuroFilter:
    """One Euro filter over [K, 2] keypoints, one frame at a time (module docstring).

    Args:
      min_cutoff: cut-off (cycles per frame) of a joint at rest; lower is smoother.
      beta: how fast the cut-off rises with the joint's speed (person sizes a frame); higher lags
        less behind fast motion.
      d_cutoff: cut-off of the low-pass on the speed itself.
    """

    def __init__(self, min_cutoff: float = DEFAULT_MIN_CUTOFF, beta: float = DEFAULT_BETA,
                 d_cutoff: float = DEFAULT_D_CUTOFF):
        for name, value in (("min_cutoff", min_cutoff), ("d_cutoff", d_cutoff)):
            if not (np.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number, got {value}")
        if not (np.isfinite(beta) and beta >= 0):
            raise ValueError(f"beta must be >= 0, got {beta}")
        self.min_cutoff = float(min_cutoff)
        self.beta = float(beta)
        self.d_cutoff = float(d_cutoff)
        self.reset()

    def reset(self) -> None:
        """Forget the past: the next keypoints pass unchanged (a new person, or a lost one)."""
        self._value = None
        self._speed = None

    def __call__(self, keypoints: np.ndarray, size: float) -> np.ndarray:
        """keypoints [K, 2] (frame px) and the person box's longer side (px) -> smoothed [K, 2]."""
        x = np.asarray(keypoints, np.float64)
        if self._value is None or not np.all(np.isfinite(self._value)):
            self._value, self._speed = x.copy(), np.zeros_like(x)
            return x.astype(np.float32)
        a_d = _alpha(self.d_cutoff)
        self._speed = a_d * (x - self._value) + (1.0 - a_d) * self._speed
        speed = np.linalg.norm(self._speed, axis=-1, keepdims=True) / max(float(size), 1.0)
        a = _alpha(self.min_cutoff + self.beta * speed)
        self._value = a * x + (1.0 - a) * self._value
        return self._value.astype(np.float32)

    def describe(self) -> dict:
        return {"filter": "one_euro", "min_cutoff": self.min_cutoff, "beta": self.beta,
                "d_cutoff": self.d_cutoff}


def make(smoothing: dict | None) -> OneEuroFilter | None:
    """A fresh filter from settings {'min_cutoff', 'beta'[, 'd_cutoff']} (each tracker needs its
    own: the filter holds the stream's past), or None for None."""
    return None if smoothing is None else OneEuroFilter(**smoothing)

"""The skeleton overlay drawn with OpenCV: one colour per body side, limbs from the joint set's
skeleton, the crop square and a label."""
from __future__ import annotations

import cv2
import numpy as np


def _joint_color(name: str):
    if name.startswith("l_"):
        return (255, 140, 0)  # BGR: blue-ish for the left side
    if name.startswith("r_"):
        return (0, 140, 255)  # orange for the right side
    return (0, 220, 0)


def draw_pose(bgr: np.ndarray, result, names, edges, keypoint_threshold,
              label: str = "") -> np.ndarray:
    """Skeleton, joints, crop square and a label of `result` (a pose_tracker.FrameResult), drawn
    in place on a BGR frame."""
    h, w = bgr.shape[:2]
    thick = max(1, int(round(max(h, w) / 320)))
    # Text grows with the frame: 0.4 (about 9 px high) up to 320 px wide, proportional above.
    font = max(0.4, max(h, w) / 800)
    org = (int(8 * font / 0.4), int(20 * font / 0.4))
    if result.status != "ok":
        cv2.putText(bgr, f"frame {result.index}: unreadable", org, cv2.FONT_HERSHEY_SIMPLEX,
                    font, (0, 0, 255), max(1, int(round(2 * font))), cv2.LINE_AA)
        return bgr
    kp, conf = result.keypoints, result.confidence
    ok = conf >= keypoint_threshold

    def pt(i):
        return int(round(float(kp[i, 0]))), int(round(float(kp[i, 1])))

    x1, y1, x2, y2 = (int(round(float(v))) for v in result.crop)
    cv2.rectangle(bgr, (x1, y1), (x2, y2), (200, 200, 200), 1, cv2.LINE_AA)
    for a, b in edges:
        if ok[a] and ok[b]:
            color = _joint_color(names[a]) if names[a][:2] == names[b][:2] else (0, 220, 0)
            cv2.line(bgr, pt(a), pt(b), color, thick + 1, cv2.LINE_AA)
    for i in range(len(kp)):
        color = _joint_color(names[i]) if ok[i] else (128, 128, 128)
        cv2.circle(bgr, pt(i), thick + 2, color, -1, cv2.LINE_AA)
    tag = "I" if result.graph == "initializer" else "S"
    text = f"{result.index} {tag} conf {result.mean_confidence:.2f} {label}".strip()
    ink = max(1, int(round(2 * font)))
    cv2.putText(bgr, text, org, cv2.FONT_HERSHEY_SIMPLEX, font, (0, 0, 0), ink + 2, cv2.LINE_AA)
    cv2.putText(bgr, text, org, cv2.FONT_HERSHEY_SIMPLEX, font, (255, 255, 255), ink,
                cv2.LINE_AA)
    return bgr

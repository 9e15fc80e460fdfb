"""Pure metric functions (torch / numpy / scipy and motion3d.geometry only):

* :mod:`motion3d.metrics.motion`: MPJPE, angle error, prediction baselines, foot skate, joint speed,
  masked (constraint) position error, nearest-neighbour-pose baseline for sparse joints.
* :mod:`motion3d.metrics.inbetween`: LaFAN1 in-betweening measures (L2Q, L2P, NPSS), its canonical
  frame and training statistics, interpolation and zero-velocity baselines.
* :mod:`motion3d.metrics.fid`: FID, diversity, multimodality, recognition accuracy, improved
  precision / recall.
* :mod:`motion3d.metrics.classification`: classification scores.
"""

"""Point-cloud networks (nn.Modules only): PointNet, PointNet++ (SSG/MSG), DGCNN.

All take points ``(B, N, 3 + C)`` (channels last, xyz first) and return logits ``(B, num_classes)``;
``forward_train`` also returns the model's regularisation loss.
"""
from motion3d.models.points.common import ClassifierHead, PointClassifier, SharedMLP
from motion3d.models.points.dgcnn import DGCNN, EdgeConv
from motion3d.models.points.pointnet import PointNet, TNet, orthogonality_loss
from motion3d.models.points.pointnet2 import PointNet2, SetAbstraction

__all__ = ["ClassifierHead", "PointClassifier", "SharedMLP", "DGCNN", "EdgeConv", "PointNet", "TNet",
           "orthogonality_loss", "PointNet2", "SetAbstraction"]

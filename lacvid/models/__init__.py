"""The networks of Shi et al. (2020): configs, colour and temporal networks, discriminators,
checkpoints and ONNX export. Networks never import losses or optimisers."""

from lacvid.models.blocks import inference_copy, remove_spectral_norm
from lacvid.models.checkpoint import Checkpoint, build_net, load_checkpoint, save_checkpoint
from lacvid.models.color import ColorTransformNet, References
from lacvid.models.config import ColorNetConfig, DiscriminatorConfig, ModelConfig, TemporalNetConfig
from lacvid.models.discriminators import PatchDiscriminator, TemporalPatchDiscriminator
from lacvid.models.temporal import TemporalConstraintNet

__all__ = [
    "Checkpoint", "ColorNetConfig", "ColorTransformNet", "DiscriminatorConfig", "ModelConfig",
    "PatchDiscriminator", "References", "TemporalConstraintNet", "TemporalNetConfig",
    "TemporalPatchDiscriminator", "build_net", "inference_copy", "load_checkpoint", "remove_spectral_norm",
    "save_checkpoint",
]

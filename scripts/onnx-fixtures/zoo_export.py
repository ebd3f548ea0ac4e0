"""What export_zoo_models.py (full-size models for bench/zoo.mjs) and export_zoo_fixtures.py
(their miniatures for test/onnx-zoo.test.ts) share: BatchNorm statistics that look trained, and
the one export call (fixed seed, eval mode, a dynamic batch axis, written to a .partial file
first so a killed export leaves nothing that looks finished)."""
import os

import torch
import torch.nn as nn


def randomise_batchnorm(model):
    """Running statistics and affine terms of a trained-looking BatchNorm. A fresh BatchNorm is
    an identity, and through a hundred layers of random convs the logits then shrink to ~1e-9
    and sit within float noise of each other, which would make a top-1 check meaningless; real
    statistics also test the folding. Speed does not change: both runtimes fold BatchNorm into
    the conv before it."""
    gen = torch.Generator().manual_seed(7)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=gen) * 0.2)
            m.running_var.copy_(torch.rand(c, generator=gen) * 0.8 + 0.4)
            m.weight.data.copy_(torch.rand(c, generator=gen) + 0.5)
            m.bias.data.copy_(torch.randn(c, generator=gen) * 0.2)


class FirstOutput(nn.Module):
    """torchvision's segmentation models return {'out': ..., 'aux': ...}; the export keeps 'out'."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)["out"]


def export_model(make, side, path, opset=13):
    """Builds make() with seed 0, randomises its BatchNorms, exports it for 1 x 3 x side x side
    input with a dynamic batch axis. Returns the model (for its parameter count)."""
    torch.manual_seed(0)
    model = make().eval()
    with torch.no_grad():
        randomise_batchnorm(model)
    partial = path + ".partial"
    torch.onnx.export(
        model,
        torch.randn(1, 3, side, side),
        partial,
        input_names=["input"],
        output_names=["output"],
        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
        opset_version=opset,
    )
    os.replace(partial, path)
    return model

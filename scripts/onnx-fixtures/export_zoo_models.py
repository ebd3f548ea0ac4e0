#!/usr/bin/python3
"""Exports the torchvision classification zoo at full width for bench/zoo.mjs: random weights,
eval mode, opset 13, a dynamic batch axis, 224x224 (inception_v3 at 299x299, the size its
stride-2 stem and valid-padded pools are built for). Together about 900 MB, so they go to
bench/.models/zoo/ (git-ignored) and are made on demand, never committed.

    /usr/bin/python3 scripts/onnx-fixtures/export_zoo_models.py [--out DIR] [name ...]

Without names, every model is exported; a model whose file exists is skipped. A model that
fails to export is reported on stderr and the others still go; the exit code is 1 then.

BatchNorm running statistics get random values (as in export_fixtures.py). A fresh BatchNorm is
an identity, and through a hundred layers of random convs the logits then shrink to ~1e-9 and
sit within float noise of each other, which would make the top-1 check meaningless. Speed does
not change: both runtimes fold BatchNorm into the conv before it.
"""
import os
import sys

import torch
import torch.nn as nn
import torchvision.models as tvm

# name -> (builder, input side). googlenet and inception_v3 drop their auxiliary heads: in eval
# mode they are not computed, and without them the export carries no dead weights.
ZOO = {
    "efficientnet_b0": (tvm.efficientnet_b0, 224),
    "efficientnet_v2_s": (tvm.efficientnet_v2_s, 224),
    "mobilenet_v3_small": (tvm.mobilenet_v3_small, 224),
    "mobilenet_v3_large": (tvm.mobilenet_v3_large, 224),
    "mnasnet1_0": (tvm.mnasnet1_0, 224),
    "densenet121": (tvm.densenet121, 224),
    "googlenet": (lambda: tvm.googlenet(aux_logits=False, init_weights=True), 224),
    "inception_v3": (lambda: tvm.inception_v3(aux_logits=False, init_weights=True), 299),
    "regnet_x_400mf": (tvm.regnet_x_400mf, 224),
    "regnet_y_400mf": (tvm.regnet_y_400mf, 224),
    "resnext50_32x4d": (tvm.resnext50_32x4d, 224),
    "shufflenet_v2_x0_5": (tvm.shufflenet_v2_x0_5, 224),
    "alexnet": (tvm.alexnet, 224),
    "resnet50": (tvm.resnet50, 224),
    "resnet18": (tvm.resnet18, 224),
    "mobilenet_v2": (tvm.mobilenet_v2, 224),
    "shufflenet_v2_x1_0": (tvm.shufflenet_v2_x1_0, 224),
}


def randomise_batchnorm(model):
    """Running statistics and affine terms of a trained-looking BatchNorm (see the docstring)."""
    gen = torch.Generator().manual_seed(7)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=gen) * 0.2)
            m.running_var.copy_(torch.rand(c, generator=gen) * 0.8 + 0.4)
            m.weight.data.copy_(torch.rand(c, generator=gen) + 0.5)
            m.bias.data.copy_(torch.randn(c, generator=gen) * 0.2)


def export(name, out_dir):
    make, side = ZOO[name]
    path = os.path.join(out_dir, name + ".onnx")
    if os.path.exists(path):
        return
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
        opset_version=13,
    )
    os.replace(partial, path)  # a killed export leaves no half file that looks finished
    print(f"{name}: {os.path.getsize(path)} bytes, input 3x{side}x{side} -> {path}", flush=True)


def main():
    args = sys.argv[1:]
    out_dir = os.path.join(os.path.dirname(__file__), "..", "..", "bench", ".models", "zoo")
    if args[:1] == ["--out"]:
        out_dir, args = args[1], args[2:]
    unknown = [n for n in args if n not in ZOO]
    if unknown:
        sys.exit(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(ZOO)}")
    os.makedirs(out_dir, exist_ok=True)
    failed = 0
    for name in args or list(ZOO):
        try:
            export(name, out_dir)
        except Exception as error:  # one model's exporter failure must not stop the others
            failed += 1
            print(f"{name}: export failed: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

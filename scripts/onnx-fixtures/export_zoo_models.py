#!/usr/bin/python3
"""Exports the torchvision classification zoo, ConvNeXt, Swin, ViT and three segmentation models
at full width for bench/zoo.mjs: random weights, eval mode, opset 13 (17 where LayerNormalization
is used), a dynamic batch axis, 224x224 (inception_v3 at 299x299, the size its stride-2 stem and
valid-padded pools are built for). Together about 900 MB, so they go to
bench/.models/zoo/ (git-ignored) and are made on demand, never committed.

    /usr/bin/python3 scripts/onnx-fixtures/export_zoo_models.py [--out DIR] [name ...]

Without names, every model is exported; a model whose file exists is skipped. A model that
fails to export is reported on stderr and the others still go; the exit code is 1 then.

BatchNorm running statistics get random values (zoo_export.randomise_batchnorm says why).
"""
import os
import sys

import torch
import torchvision.models as tvm
import torchvision.models.segmentation as tvs

from zoo_export import FirstOutput, export_model

def random_head(model):
    """torchvision's ViT starts its classifier at zero (weights and bias): every logit would be 0
    and the benchmark's comparison with onnxruntime would check nothing."""
    head = model.heads.head
    torch.nn.init.normal_(head.weight, std=0.02)
    torch.nn.init.normal_(head.bias, std=0.02)
    return model


# name -> (builder, input side, opset). googlenet and inception_v3 drop their auxiliary heads: in
# eval mode they are not computed, and without them the export carries no dead weights.
ZOO = {
    "efficientnet_b0": (tvm.efficientnet_b0, 224, 13),
    "efficientnet_v2_s": (tvm.efficientnet_v2_s, 224, 13),
    "mobilenet_v3_small": (tvm.mobilenet_v3_small, 224, 13),
    "mobilenet_v3_large": (tvm.mobilenet_v3_large, 224, 13),
    "mnasnet1_0": (tvm.mnasnet1_0, 224, 13),
    "densenet121": (tvm.densenet121, 224, 13),
    "googlenet": (lambda: tvm.googlenet(aux_logits=False, init_weights=True), 224, 13),
    "inception_v3": (lambda: tvm.inception_v3(aux_logits=False, init_weights=True), 299, 13),
    "regnet_x_400mf": (tvm.regnet_x_400mf, 224, 13),
    "regnet_y_400mf": (tvm.regnet_y_400mf, 224, 13),
    "resnext50_32x4d": (tvm.resnext50_32x4d, 224, 13),
    "shufflenet_v2_x0_5": (tvm.shufflenet_v2_x0_5, 224, 13),
    "alexnet": (tvm.alexnet, 224, 13),
    "resnet50": (tvm.resnet50, 224, 13),
    "resnet18": (tvm.resnet18, 224, 13),
    "mobilenet_v2": (tvm.mobilenet_v2, 224, 13),
    "shufflenet_v2_x1_0": (tvm.shufflenet_v2_x1_0, 224, 13),
    # Modern CNNs and transformers (issue 12), opset 17 for LayerNormalization.
    "convnext_tiny": (tvm.convnext_tiny, 224, 17),
    "swin_t": (tvm.swin_t, 224, 17),
    "vit_b_16": (lambda: random_head(tvm.vit_b_16()), 224, 17),
    # Segmentation, at 224x224 (torchvision evaluates them at 520: 5.4x the work, too slow to
    # bench on a shared 2-core machine); no pretrained backbone (that would download it).
    "lraspp_mobilenet_v3_large": (lambda: FirstOutput(tvs.lraspp_mobilenet_v3_large(weights_backbone=None)), 224, 13),
    "deeplabv3_mobilenet_v3_large": (
        lambda: FirstOutput(tvs.deeplabv3_mobilenet_v3_large(weights_backbone=None)), 224, 13),
    "fcn_resnet50": (lambda: FirstOutput(tvs.fcn_resnet50(weights_backbone=None)), 224, 13),
}


def export(name, out_dir):
    make, side, opset = ZOO[name]
    path = os.path.join(out_dir, name + ".onnx")
    if os.path.exists(path):
        return
    export_model(make, side, path, opset)
    print(f"{name}: {os.path.getsize(path)} bytes, input 3x{side}x{side}, opset {opset} -> {path}", flush=True)


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

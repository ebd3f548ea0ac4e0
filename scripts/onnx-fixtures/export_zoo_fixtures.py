#!/usr/bin/python3
"""Exports miniature versions of the model-zoo architectures (bench/zoo.mjs) as ONNX fixtures
for test/onnx-zoo.test.ts, which runs each on both convnode backends against onnxruntime-node.

Each miniature is built from torchvision's own blocks wherever torchvision lets a width be
chosen, so the exported graph has the same node patterns as the full model: MBConv with SE and
SiLU and Fused-MBConv (EfficientNet B0 / V2-S), HardSwish / HardSigmoid SE (MobileNetV3),
BN-ReLU pre-activation and concat (DenseNet), Inception branches with concat and padded pools
(GoogLeNet, Inception v3), grouped convs (RegNet, ResNeXt), SE with ReLU / Sigmoid (RegNet Y),
the bottleneck (ResNet-50), channel shuffle (ShuffleNetV2), and AlexNet's 11x11/4 stem and
adaptive pool. Where torchvision fixes the widths (GoogLeNet, Inception v3), the model is built
with a conv factory that divides every conv's width by a constant, so every branch keeps its
shape. Widths are small to keep test/fixtures/zoo/ well under 5 MB.

Run with the Debian torch (TorchScript exporter, opset 13 as bench/zoo.mjs uses):
    /usr/bin/python3 scripts/onnx-fixtures/export_zoo_fixtures.py [name ...]
With names, only those fixtures are written. Seeds are fixed; CI has no torch and uses the
committed files.
"""
import importlib
import os
import sys
from functools import partial

import onnx
import torch
import torch.nn as nn
from torchvision.models.densenet import DenseNet
from torchvision.models.efficientnet import EfficientNet, FusedMBConvConfig, MBConvConfig
from torchvision.models.mnasnet import MNASNet
from torchvision.models.mobilenetv3 import MobileNetV3, _mobilenet_v3_conf
from torchvision.models.regnet import BlockParams, RegNet
from torchvision.models.resnet import Bottleneck
from torchvision.models.shufflenetv2 import ShuffleNetV2

from zoo_export import export_model

# torchvision.models.googlenet is also the name of a function there, so import the modules by path.
tv_googlenet = importlib.import_module("torchvision.models.googlenet")
tv_inception = importlib.import_module("torchvision.models.inception")

OUT_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "zoo")
CLASSES = 10


def efficientnet_b0():
    """EfficientNet-B0's seven MBConv stages, with B0's kernels (3x3 and 5x5 depthwise), expand
    ratios and strides, SE and SiLU, at narrow widths; two stages repeat a block for the
    residual add. (torchvision's width_mult 0.25 still leaves 200k parameters.)"""
    setting = [
        MBConvConfig(1, 3, 1, 8, 8, 1),
        MBConvConfig(6, 3, 2, 8, 8, 1),
        MBConvConfig(6, 5, 2, 8, 16, 2),
        MBConvConfig(6, 3, 2, 16, 16, 1),
        MBConvConfig(6, 5, 1, 16, 24, 2),
        MBConvConfig(6, 5, 2, 24, 24, 1),
        MBConvConfig(6, 3, 1, 24, 32, 1),
    ]
    return EfficientNet(setting, dropout=0.2, num_classes=CLASSES, last_channel=96)


def efficientnet_v2_s():
    """EfficientNetV2-S's layout: Fused-MBConv stages (expand 1 without a 1x1, expand 4 with one),
    then MBConv stages with SE, at narrow widths and with repeats for the residual adds."""
    setting = [
        FusedMBConvConfig(1, 3, 1, 8, 8, 2),
        FusedMBConvConfig(4, 3, 2, 8, 16, 2),
        FusedMBConvConfig(4, 3, 2, 16, 24, 1),
        MBConvConfig(4, 3, 2, 24, 24, 2),
        MBConvConfig(6, 3, 1, 24, 24, 1),
        MBConvConfig(6, 3, 2, 24, 32, 2),
    ]
    return EfficientNet(setting, dropout=0.2, num_classes=CLASSES, norm_layer=partial(nn.BatchNorm2d, eps=1e-3), last_channel=96)


def mobilenet_v3(arch):
    """torchvision's MobileNetV3 (HardSwish, SE with HardSigmoid, 5x5 depthwise) at width 0.25
    (small) or 0.2 (large), without the third block of a stage that has three or more (each
    stage keeps a residual), and a 64-wide classifier."""
    width = 0.2 if arch == "mobilenet_v3_large" else 0.25
    setting, _ = _mobilenet_v3_conf(arch, width_mult=width, reduced_tail=True)
    kept = [c for i, c in enumerate(setting) if not (i >= 2 and repeats(setting[i - 2], c))]
    model = MobileNetV3(kept, 64, num_classes=CLASSES)
    # torchvision draws the classifier from N(0, 0.01): logits of ~1e-3 at random weights. torch's
    # default init gives the outputs a size the test's "not vanishing" check accepts.
    for layer in model.classifier:
        if isinstance(layer, nn.Linear):
            layer.reset_parameters()
    return model


def repeats(earlier, block):
    """True when `block` is a third block of its stage: stride 1 and the width of the block two before."""
    return block.stride == 1 and earlier.out_channels == block.out_channels == block.input_channels


def mnasnet():
    """MNASNet-B1 at alpha 0.125 (all six stacks of 3x3 and 5x5 inverted residuals), with the
    fixed 1280-wide last conv narrowed to 96."""
    model = MNASNet(0.125, num_classes=CLASSES)
    cin = model.layers[14].in_channels
    model.layers[14] = nn.Conv2d(cin, 96, 1, bias=False)
    model.layers[15] = nn.BatchNorm2d(96)
    model.classifier[1] = nn.Linear(96, CLASSES)
    return model


def densenet():
    """DenseNet with four dense blocks (BN-ReLU-1x1-BN-ReLU-3x3, concat) and transitions with
    2x2 average pools; growth 8 instead of 32."""
    return DenseNet(growth_rate=8, block_config=(2, 3, 4, 2), num_init_features=16, bn_size=2, num_classes=CLASSES)


def narrowed_conv_block(block, divisor):
    """A conv_block for torchvision's GoogLeNet / Inception3 that divides every width by `divisor`
    (the 3-channel image input stays 3), so their fixed widths shrink and the branches still add up."""

    def make(in_channels, out_channels, **kwargs):
        cin = in_channels if in_channels == 3 else in_channels // divisor
        return block(cin, out_channels // divisor, **kwargs)

    return make


def googlenet():
    """torchvision's GoogLeNet (nine Inception blocks, ceil-mode max pools, the stride-1 padded
    max pool branch) with every width divided by 16. Every branch output divides exactly; the
    5x5 branches' 16- and 24-wide reductions become 1 channel."""
    conv = narrowed_conv_block(tv_googlenet.BasicConv2d, 16)
    model = tv_googlenet.GoogLeNet(
        num_classes=CLASSES,
        aux_logits=False,
        init_weights=True,
        blocks=[conv, partial(tv_googlenet.Inception, conv_block=conv), tv_googlenet.InceptionAux],
    )
    model.fc = nn.Linear(1024 // 16, CLASSES)
    return model


def inception_v3():
    """torchvision's Inception v3 (blocks A to E: 5x5, 1x7 / 7x1 and 1x3 / 3x1 factorised
    branches, padded average pools, grid reductions) with every width divided by 16."""
    conv = narrowed_conv_block(tv_inception.BasicConv2d, 16)
    blocks = [conv] + [partial(b, conv_block=conv) for b in (tv_inception.InceptionA, tv_inception.InceptionB, tv_inception.InceptionC, tv_inception.InceptionD, tv_inception.InceptionE)]
    model = tv_inception.Inception3(num_classes=CLASSES, aux_logits=False, init_weights=True, inception_blocks=blocks + [tv_inception.InceptionAux])
    model.fc = nn.Linear(2048 // 16, CLASSES)
    return model


def regnet(se_ratio):
    """torchvision's RegNet (stem, ResBottleneckBlocks with grouped 3x3 convs of 8 and 16
    channels per group); RegNet Y adds the SE block (ReLU, Sigmoid)."""
    params = BlockParams(
        depths=[1, 2, 2],
        widths=[16, 32, 64],
        group_widths=[8, 8, 16],
        bottleneck_multipliers=[1.0, 1.0, 1.0],
        strides=[2, 2, 2],
        se_ratio=se_ratio,
    )
    return RegNet(params, num_classes=CLASSES, stem_width=16)


class MiniBottleneckResNet(nn.Module):
    """ResNet-50's layout (7x7/2 stem, max pool, torchvision Bottleneck blocks with the stride on
    the 3x3, projection shortcuts) at small widths; groups > 1 makes it ResNeXt."""

    def __init__(self, groups=1, width_per_group=64, planes=(8, 16, 32), blocks=(2, 1, 1)):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 7, stride=2, padding=3, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True), nn.MaxPool2d(3, stride=2, padding=1))
        layers = []
        inplanes = 16
        for i, (p, n) in enumerate(zip(planes, blocks)):
            for b in range(n):
                stride = 2 if i > 0 and b == 0 else 1
                down = None
                if b == 0 and (stride != 1 or inplanes != p * Bottleneck.expansion):
                    down = nn.Sequential(nn.Conv2d(inplanes, p * Bottleneck.expansion, 1, stride=stride, bias=False), nn.BatchNorm2d(p * Bottleneck.expansion))
                layers.append(Bottleneck(inplanes, p, stride, down, groups=groups, base_width=width_per_group))
                inplanes = p * Bottleneck.expansion
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(inplanes, CLASSES)

    def forward(self, x):
        x = self.layers(self.stem(x))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


class MiniAlexNet(nn.Module):
    """torchvision's AlexNet layer for layer (11x11/4 stem, 5x5, three 3x3, max pools, the 6x6
    adaptive average pool, dropout and three Linear layers) with widths divided by 8 to 16."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(8, 24, kernel_size=5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(24, 48, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(48, 32, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(32, 16, kernel_size=3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(0.5), nn.Linear(16 * 6 * 6, 32), nn.ReLU(inplace=True),
            nn.Dropout(0.5), nn.Linear(32, 32), nn.ReLU(inplace=True), nn.Linear(32, CLASSES),
        )

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def shufflenet_v2():
    """torchvision's ShuffleNetV2 (stem, max pool, units with chunk + channel shuffle, conv5,
    mean over H and W) with narrow stages."""
    return ShuffleNetV2([2, 3, 2], [8, 16, 32, 64, 128], num_classes=CLASSES)


# name -> (builder, input side). 64x64 leaves a 2x2 map after five stride-2 stages. AlexNet
# needs its full 224 for the 6x6 map its adaptive pool expects; Inception v3's stem needs 75.
FIXTURES = {
    "efficientnet_b0_mini": (efficientnet_b0, 64),
    "efficientnet_v2_s_mini": (efficientnet_v2_s, 64),
    "mobilenet_v3_small_mini": (lambda: mobilenet_v3("mobilenet_v3_small"), 64),
    "mobilenet_v3_large_mini": (lambda: mobilenet_v3("mobilenet_v3_large"), 64),
    "mnasnet_mini": (mnasnet, 64),
    "densenet_mini": (densenet, 64),
    "googlenet_mini": (googlenet, 64),
    "inception_v3_mini": (inception_v3, 75),
    "regnet_x_mini": (lambda: regnet(None), 64),
    "regnet_y_mini": (lambda: regnet(0.25), 64),
    "resnext_mini": (lambda: MiniBottleneckResNet(groups=8, width_per_group=32), 64),
    "resnet50_mini": (MiniBottleneckResNet, 64),
    "alexnet_mini": (MiniAlexNet, 224),
    "shufflenet_v2_mini": (shufflenet_v2, 64),
}


def export(name):
    make, side = FIXTURES[name]
    path = os.path.join(OUT_DIR, name + ".onnx")
    model = export_model(make, side, path)
    graph = onnx.load(path)
    onnx.checker.check_model(graph)
    ops = sorted({n.op_type for n in graph.graph.node})
    params = sum(p.numel() for p in model.parameters())
    print(f"{name}: 3x{side}x{side}, {params} params, {os.path.getsize(path)} bytes, ops {ops}")


def main():
    print("torch", torch.__version__, "onnx", onnx.__version__, file=sys.stderr)
    names = sys.argv[1:] or list(FIXTURES)
    unknown = [n for n in names if n not in FIXTURES]
    if unknown:
        sys.exit(f"unknown fixture(s) {', '.join(unknown)}; known: {', '.join(FIXTURES)}")
    os.makedirs(OUT_DIR, exist_ok=True)
    for name in names:
        export(name)


if __name__ == "__main__":
    main()

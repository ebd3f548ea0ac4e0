#!/usr/bin/python3
"""Exports the small ONNX models the convnode ONNX tests run against onnxruntime-node.

Run with the Debian torch (TorchScript exporter, no dynamo):
    /usr/bin/python3 scripts/onnx-fixtures/export_fixtures.py [fixture-name ...]
With names, only those fixtures are written (the others keep their committed bytes).
Writes test/fixtures/onnx/*.onnx. Seeds are fixed, so the files are reproducible on one torch
version; CI has no torch and uses the committed files. Widths and inputs are reduced to keep
the whole folder under 5 MB.
"""
import os
import sys

import onnx
import onnx.numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto, helper
from torchvision.models import mobilenet_v2
from torchvision.models.resnet import BasicBlock
from torchvision.models.shufflenetv2 import InvertedResidual
from torchvision.models.squeezenet import Fire
from torchvision.ops.misc import SqueezeExcitation

# The same trained-looking BatchNorm statistics as the zoo exports (one definition, same draws).
from zoo_export import randomise_batchnorm

OUT_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "onnx")


class LeNet5(nn.Module):
    """The lecture's LeNet: 3x32x32 -> conv6 5x5 -> pool -> conv16 5x5 -> pool -> 120 -> 84 -> 10."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(400, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return F.softmax(self.fc3(x), dim=1)


class SmallResNet(nn.Module):
    """Basic blocks with residual adds; stages 2 and 3 downsample with strided 1x1 shortcuts."""

    def __init__(self, widths=(8, 16, 32), classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, widths[0], 3, padding=1, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU())
        self.pool = nn.MaxPool2d(3, stride=2, padding=1)
        blocks = []
        cin = widths[0]
        for i, w in enumerate(widths):
            stride = 1 if i == 0 else 2
            down = None
            if stride != 1 or cin != w:
                down = nn.Sequential(nn.Conv2d(cin, w, 1, stride=stride, bias=False), nn.BatchNorm2d(w))
            blocks.append(BasicBlock(cin, w, stride=stride, downsample=down))
            blocks.append(BasicBlock(w, w))
            cin = w
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(cin, classes)

    def forward(self, x):
        x = self.blocks(self.pool(self.stem(x)))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.head(x)


class SmallSqueezeNet(nn.Module):
    """SqueezeNet 1.1 layout at reduced width: Fire modules concatenate 1x1 and 3x3 expands."""

    def __init__(self, classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, stride=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, stride=2, ceil_mode=True),
            Fire(16, 8, 16, 16),
            Fire(32, 8, 16, 16),
            nn.MaxPool2d(3, stride=2, ceil_mode=True),
            Fire(32, 12, 24, 24),
            Fire(48, 12, 24, 24),
        )
        self.classifier = nn.Sequential(nn.Dropout(0.5), nn.Conv2d(48, classes, 1), nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d(1))

    def forward(self, x):
        return torch.flatten(self.classifier(self.features(x)), 1)


class UnfoldedBatchNorm(nn.Module):
    """BatchNorm where no exporter can fold it: on the raw input, after a ReLU, after an Add;
    plus Conv->BN pairs that stay separate because the export skips the eval peephole."""

    def __init__(self):
        super().__init__()
        self.bn_in = nn.BatchNorm2d(3)
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=2)
        self.bn2 = nn.BatchNorm2d(8)
        self.bn_after_add = nn.BatchNorm2d(8)
        self.fc = nn.Linear(8, 5)

    def forward(self, x):
        x = self.bn_in(x)
        y = F.relu(self.bn1(self.conv1(x)))
        z = self.bn2(self.conv2(y)) + y
        z = F.leaky_relu(self.bn_after_add(z), 0.1)
        return self.fc(F.adaptive_max_pool2d(z, 1).flatten(1))


class SEHardSwishNet(nn.Module):
    """MobileNetV3-style block: HardSwish, depthwise conv, squeeze-excitation with HardSigmoid
    (Mul by a GlobalAveragePool branch), input normalisation by broadcast Sub/Div, Tanh, Sigmoid,
    AveragePool without padded cells, and a Linear over a 3-D input (MatMul + Add)."""

    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(16), nn.Hardswish())
        self.dw = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1, groups=16, bias=False), nn.BatchNorm2d(16), nn.Hardswish())
        self.se = SqueezeExcitation(16, 8, scale_activation=nn.Hardsigmoid)
        self.project = nn.Sequential(nn.Conv2d(16, 12, 1, bias=False), nn.BatchNorm2d(12))
        self.gate = nn.Conv2d(12, 12, 1)
        self.pool = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
        self.token = nn.Linear(12, 6)
        self.head = nn.Linear(6 * 16, 4)

    def forward(self, x):
        x = (x - self.mean) / self.std
        x = self.se(self.dw(self.stem(x)))
        x = self.project(x)
        x = torch.tanh(x) * torch.sigmoid(self.gate(x))
        x = self.pool(x)  # N x 12 x 4 x 4 for a 16x16 input
        x = x.flatten(2).transpose(1, 2)  # N x 16 x 12
        x = self.token(x)  # MatMul + Add over a rank-3 input
        return self.head(x.flatten(1))


class Opset9Flatten(nn.Module):
    """Exported at opset 9: Clip with min/max attributes (ReLU6), Constant nodes, and the
    Shape->Gather->Unsqueeze->Concat->Reshape chain that x.view(x.size(0), -1) produces."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 3, stride=2, padding=1)
        self.bn1 = nn.BatchNorm2d(6)
        self.conv2 = nn.Conv2d(6, 10, 3)
        self.fc = nn.Linear(10 * 5 * 5, 7)

    def forward(self, x):
        x = F.relu6(self.bn1(self.conv1(x)))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.view(x.size(0), -1)
        return self.fc(x)


class SplitShuffleUnit(InvertedResidual):
    """torchvision's stride-1 ShuffleNetV2 unit, splitting with x.split(half) instead of
    x.chunk(2): this torch exports chunk as Slice nodes, split as the ONNX Split that newer
    exporters emit for chunk too."""

    def forward(self, x):
        half = x.shape[1] // 2
        x1, x2 = x.split(half, dim=1)
        out = torch.cat((x1, self.branch2(x2)), dim=1)
        b, c, h, w = out.shape
        # The channel shuffle of torchvision's channel_shuffle(out, 2): Reshape, Transpose, Reshape.
        return out.view(b, 2, c // 2, h, w).transpose(1, 2).reshape(b, c, h, w)


class SmallShuffleNet(nn.Module):
    """ShuffleNetV2 at reduced width: a stride-2 unit (two branches, concat, shuffle), a unit
    with Split, a stock unit (chunk -> Slice), the 1x1 conv5 and the x.mean([2, 3]) head
    (ReduceMean over H and W) before the classifier."""

    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True))
        self.units = nn.Sequential(InvertedResidual(16, 32, 2), SplitShuffleUnit(32, 32, 1), InvertedResidual(32, 32, 1))
        self.conv5 = nn.Sequential(nn.Conv2d(32, 48, 1, bias=False), nn.BatchNorm2d(48), nn.ReLU(inplace=True))
        self.fc = nn.Linear(48, classes)

    def forward(self, x):
        return self.fc(self.conv5(self.units(self.stem(x))).mean([2, 3]))


class SplitReduceMix(nn.Module):
    """The other Split and Reduce forms torch writes: unequal parts, a split on the last axis
    whose last chunk is smaller, ReduceSum over channels, ReduceMax over H and W, ReduceMin on a
    negative axis without keepdims, ReduceMean over channels."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1)

    def forward(self, x):
        x = self.conv(x)  # N x 16 x 8 x 8
        a, b = torch.split(x, [4, 12], dim=1)
        y = a * a.amax(dim=(2, 3), keepdim=True) + b.sum(dim=1, keepdim=True)  # N x 4 x 8 x 8
        parts = y.split(3, dim=-1)  # widths 3, 3, 2
        z = torch.cat([p.amin(dim=-1) for p in parts], dim=-1)  # N x 4 x 24
        return z.mean(dim=1)  # N x 24


def to_opset18(source, target):
    """Rewrites an opset-13 export as opset 18 (torch here stops at 17): Split with equal parts
    takes num_outputs, Reduce* (but ReduceSum, already an input) take axes as an input. The
    graph's other ops did not change meaning between 13 and 18. onnx here only knows opsets up
    to 17, so this file is not run through its checker; the tests load it in onnxruntime."""
    model = onnx.load(source)
    graph = model.graph
    constants = {t.name: onnx.numpy_helper.to_array(t) for t in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant":
            constants[node.output[0]] = onnx.numpy_helper.to_array(node.attribute[0].t)
    for node in graph.node:
        attrs = {a.name: a for a in node.attribute}
        if node.op_type == "Split" and len(node.input) > 1:
            sizes = constants[node.input[1]]
            assert len(set(sizes.tolist())) == 1, "only equal parts become num_outputs"
            del node.input[1]
            node.attribute.append(helper.make_attribute("num_outputs", len(node.output)))
        elif node.op_type in ("ReduceMean", "ReduceMax", "ReduceMin") and "axes" in attrs:
            name = node.name.replace("/", "_") + "_axes"
            graph.initializer.append(helper.make_tensor(name, TensorProto.INT64, [len(attrs["axes"].ints)], list(attrs["axes"].ints)))
            node.input.append(name)
            node.attribute.remove(attrs["axes"])
    # The Constant nodes that held the split sizes are read by nothing now.
    read = {name for node in graph.node for name in node.input}
    for node in [n for n in graph.node if n.op_type == "Constant" and n.output[0] not in read]:
        graph.node.remove(node)
    del model.opset_import[:]
    model.opset_import.append(helper.make_opsetid("", 18))
    model.ir_version = 8
    onnx.save(model, target)
    ops = sorted({n.op_type for n in graph.node})
    print(f"{os.path.basename(target)}: opset 18 rewrite, {os.path.getsize(target)} bytes, ops {ops}")


def reduced_mobilenet_v2():
    """torchvision's MobileNetV2 at width 0.25 with a narrow last conv (the stock one is 1280 wide)."""
    model = mobilenet_v2(width_mult=0.25, num_classes=10)
    last = model.features[-1]
    cin = last[0].in_channels
    model.features[-1] = type(last)(cin, 128, kernel_size=1, norm_layer=nn.BatchNorm2d, activation_layer=nn.ReLU6)
    model.classifier[1] = nn.Linear(128, 10)
    return model


def export(name, model, shape, opset=13, training=torch.onnx.TrainingMode.EVAL, fold=True):
    torch.manual_seed(0)
    model.eval()
    randomise_batchnorm(model)
    path = os.path.join(OUT_DIR, name + ".onnx")
    torch.onnx.export(
        model,
        torch.randn(*shape),
        path,
        input_names=["input"],
        output_names=["output"],
        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
        opset_version=opset,
        training=training,
        do_constant_folding=fold,
    )
    onnx.checker.check_model(onnx.load(path))
    ops = sorted({n.op_type for n in onnx.load(path).graph.node})
    print(f"{name}: opset {opset}, {os.path.getsize(path)} bytes, ops {ops}")


def export_unsupported_op():
    """A one-node model with an operator convnode does not implement (a Det over a matrix)."""
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, 3])
    y = helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch"])
    node = helper.make_node("Det", ["input"], ["output"], name="determinant")
    graph = helper.make_graph([node], "unsupported", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(OUT_DIR, "unsupported_op.onnx"))
    print("unsupported_op: Det")


def export_auto_pad():
    """Exporters from PyTorch never write auto_pad; TensorFlow converters do. Hand-built with
    the onnx helper: SAME_UPPER and SAME_LOWER strided convs (odd totals, so the sides differ),
    a VALID max pool, and a Gemm with transA/alpha/beta."""
    gen = torch.Generator().manual_seed(3)
    w1 = torch.randn(4, 2, 4, 4, generator=gen) * 0.3
    w2 = torch.randn(5, 4, 3, 3, generator=gen) * 0.3
    b2 = torch.randn(5, generator=gen) * 0.1
    gemm_b = torch.randn(6, 5 * 2 * 2, generator=gen) * 0.2
    gemm_c = torch.randn(6, generator=gen) * 0.1
    inits = [
        helper.make_tensor("w1", TensorProto.FLOAT, w1.shape, w1.flatten().tolist()),
        helper.make_tensor("w2", TensorProto.FLOAT, w2.shape, w2.flatten().tolist()),
        helper.make_tensor("b2", TensorProto.FLOAT, b2.shape, b2.flatten().tolist()),
        helper.make_tensor("gemm_b", TensorProto.FLOAT, gemm_b.shape, gemm_b.flatten().tolist()),
        helper.make_tensor("gemm_c", TensorProto.FLOAT, gemm_c.shape, gemm_c.flatten().tolist()),
    ]
    nodes = [
        helper.make_node("Conv", ["input", "w1"], ["c1"], name="conv_same_upper", auto_pad="SAME_UPPER", strides=[2, 2]),
        helper.make_node("Conv", ["c1", "w2", "b2"], ["c2"], name="conv_same_lower", auto_pad="SAME_LOWER", strides=[2, 1]),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu"),
        helper.make_node("MaxPool", ["r2"], ["p"], name="pool_valid", auto_pad="VALID", kernel_shape=[2, 2], strides=[1, 2]),
        helper.make_node("Flatten", ["p"], ["f"], name="flatten", axis=1),
        helper.make_node("Transpose", ["f"], ["ft"], name="transpose", perm=[1, 0]),
        helper.make_node("Gemm", ["ft", "gemm_b", "gemm_c"], ["output"], name="gemm", transA=1, transB=1, alpha=0.5, beta=2.0),
    ]
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 2, 11, 9])
    y = helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 6])
    graph = helper.make_graph(nodes, "auto_pad", [x], [y], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)])
    onnx.checker.check_model(model)
    path = os.path.join(OUT_DIR, "auto_pad.onnx")
    onnx.save(model, path)
    print(f"auto_pad: {os.path.getsize(path)} bytes")


def export_shufflenet():
    for opset in (11, 13):
        torch.manual_seed(0)
        export(f"shufflenet_small_opset{opset}", SmallShuffleNet(), (1, 3, 32, 32), opset=opset)
    path = lambda name: os.path.join(OUT_DIR, name + ".onnx")
    to_opset18(path("shufflenet_small_opset13"), path("shufflenet_small_opset18"))


def export_split_reduce():
    for opset in (11, 13):
        torch.manual_seed(0)
        export(f"split_reduce_opset{opset}", SplitReduceMix(), (1, 3, 8, 8), opset=opset)


# Fixtures added later, exportable one by one (see the module docstring).
NAMED_EXPORTS = {"shufflenet": export_shufflenet, "split_reduce": export_split_reduce}


def main():
    print("torch", torch.__version__, "onnx", onnx.__version__, file=sys.stderr)
    os.makedirs(OUT_DIR, exist_ok=True)
    if len(sys.argv) > 1:
        for name in sys.argv[1:]:
            if name not in NAMED_EXPORTS:
                sys.exit(f"unknown fixture group '{name}'; known: {', '.join(NAMED_EXPORTS)}")
            NAMED_EXPORTS[name]()
        return
    torch.manual_seed(0)
    export("lenet5", LeNet5(), (1, 3, 32, 32))
    torch.manual_seed(0)
    export("resnet_small", SmallResNet(), (1, 3, 32, 32))
    torch.manual_seed(0)
    export("mobilenet_v2_small", reduced_mobilenet_v2(), (1, 3, 64, 64))
    torch.manual_seed(0)
    export("squeezenet_small", SmallSqueezeNet(), (1, 3, 48, 48))
    torch.manual_seed(0)
    # PRESERVE on a model in eval mode keeps inference-mode BN but skips the exporter's Conv+BN
    # fusion, so the graph holds Conv -> BatchNormalization pairs for convnode to fold.
    export("batchnorm_unfolded", UnfoldedBatchNorm(), (1, 3, 12, 12), training=torch.onnx.TrainingMode.PRESERVE, fold=False)
    torch.manual_seed(0)
    export("se_hardswish", SEHardSwishNet(), (1, 3, 16, 16), opset=14)
    torch.manual_seed(0)
    # Before opset 14 the exporter writes HardSwish as x * HardSigmoid(x).
    export("se_hardswish_opset13", SEHardSwishNet(), (1, 3, 16, 16), opset=13)
    torch.manual_seed(0)
    export("opset9_flatten", Opset9Flatten(), (1, 1, 24, 24), opset=9, fold=False)
    export_unsupported_op()
    export_auto_pad()
    for exporter in NAMED_EXPORTS.values():
        exporter()


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Exports the small modern-architecture blocks of issue 12 (ConvNeXt, Swin, ViT, UNet, FPN,
LRASPP) to test/fixtures/coverage/*.onnx with Debian's torch (TorchScript exporter, opset 17).

    /usr/bin/python3 scripts/onnx-fixtures/export_coverage_fixtures.py [name ...]

Widths are small (the whole folder stays under 1.5 MB); seeds are fixed; the batch axis is
dynamic, so the tests run batch 1 and 3. Each block is written the way torchvision writes the
full model (channels-last LayerNorm behind permutes, rolled windows, F.scaled attention by hand).
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "coverage")


class ConvNeXtBlock(nn.Module):
    """torchvision's CNBlock: depthwise 7x7, permute to NHWC, LayerNorm, Linear 4x, GELU, Linear, layer scale, permute back."""

    def __init__(self, dim):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pw1 = nn.Linear(dim, 4 * dim)
        self.pw2 = nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(torch.rand(dim) * 0.5 + 0.5)

    def forward(self, x):
        y = self.dwconv(x).permute(0, 2, 3, 1)
        y = self.pw2(F.gelu(self.pw1(self.norm(y))))
        return x + (self.gamma * y).permute(0, 3, 1, 2)


class ConvNeXtStack(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 4, stride=4)
        self.stem_norm = nn.LayerNorm(16, eps=1e-6)
        self.blocks = nn.Sequential(ConvNeXtBlock(16), ConvNeXtBlock(16))
        self.down_norm = nn.LayerNorm(16, eps=1e-6)
        self.down = nn.Conv2d(16, 32, 2, stride=2)
        self.stage2 = ConvNeXtBlock(32)
        self.head_norm = nn.LayerNorm(32, eps=1e-6)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.stem(x)
        x = self.stem_norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        x = self.blocks(x)
        x = self.down(self.down_norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2))
        x = self.stage2(x)
        x = x.mean(dim=(2, 3))
        return self.fc(self.head_norm(x))


class WindowAttention(nn.Module):
    def __init__(self, dim, heads, window, shift):
        super().__init__()
        self.dim, self.heads, self.window, self.shift = dim, heads, window, shift
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.rel_bias = nn.Parameter(torch.randn(heads, window * window, window * window) * 0.1)

    def forward(self, x):  # x: [N, H, W, C]
        n, h, w, c = x.shape
        ws, s = self.window, self.shift
        if s:
            x = torch.roll(x, shifts=(-s, -s), dims=(1, 2))
        x = x.view(n, h // ws, ws, w // ws, ws, c).permute(0, 1, 3, 2, 4, 5).reshape(-1, ws * ws, c)
        qkv = self.qkv(x).reshape(x.size(0), ws * ws, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        q = q * (c // self.heads) ** -0.5
        attn = q.matmul(k.transpose(-2, -1)) + self.rel_bias
        attn = F.softmax(attn, dim=-1)
        x = attn.matmul(v).transpose(1, 2).reshape(x.size(0), ws * ws, c)
        x = self.proj(x)
        x = x.view(n, h // ws, w // ws, ws, ws, c).permute(0, 1, 3, 2, 4, 5).reshape(n, h, w, c)
        if s:
            x = torch.roll(x, shifts=(s, s), dims=(1, 2))
        return x


class SwinBlock(nn.Module):
    def __init__(self, dim=16, heads=2, window=4, shift=2):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim, heads, window, shift)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class SwinLike(nn.Module):
    def __init__(self):
        super().__init__()
        self.patch = nn.Conv2d(3, 16, 4, stride=4)
        self.block1 = SwinBlock(shift=0)
        self.block2 = SwinBlock(shift=2)

    def forward(self, x):
        x = self.patch(x).permute(0, 2, 3, 1)
        x = self.block2(self.block1(x))
        return x.permute(0, 3, 1, 2)


class EncoderBlock(nn.Module):
    """torchvision's ViT EncoderBlock (pre-norm), attention written out as exporters see it."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x):
        n, t, c = x.shape
        q, k, v = self.qkv(self.norm1(x)).reshape(n, t, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4).unbind(0)
        attn = torch.softmax(q @ k.transpose(-2, -1) / (c // self.heads) ** 0.5, dim=-1)
        x = x + self.proj((attn @ v).transpose(1, 2).reshape(n, t, c))
        return x + self.mlp(self.norm2(x))


class ViTLike(nn.Module):
    def __init__(self, dim=32, heads=4, patch=8, size=32):
        super().__init__()
        self.patch = nn.Conv2d(3, dim, patch, stride=patch)
        self.cls = nn.Parameter(torch.randn(1, 1, dim) * 0.1)
        self.pos = nn.Parameter(torch.randn(1, (size // patch) ** 2 + 1, dim) * 0.1)
        self.encoder = EncoderBlock(dim, heads)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, 10)

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        cls = self.cls.expand(x.shape[0], -1, -1)
        x = torch.cat([cls, x], dim=1) + self.pos
        x = self.encoder(x)
        return self.head(self.norm(x[:, 0]))


def conv_bn_relu(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class UNetLike(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc1 = conv_bn_relu(3, 8)
        self.enc2 = conv_bn_relu(8, 16)
        self.mid = conv_bn_relu(16, 32)
        self.up2 = nn.ConvTranspose2d(32, 16, 2, stride=2)
        self.dec2 = conv_bn_relu(32, 16)
        self.dec1 = conv_bn_relu(16 + 8, 8)
        self.out = nn.Conv2d(8, 2, 1)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(F.max_pool2d(e1, 2))
        m = self.mid(F.max_pool2d(e2, 2))
        d2 = self.dec2(torch.cat([self.up2(m), e2], dim=1))
        d1 = F.interpolate(d2, scale_factor=2, mode="bilinear", align_corners=False)
        return self.out(self.dec1(torch.cat([d1, e1], dim=1)))


class FPNNeck(nn.Module):
    def __init__(self):
        super().__init__()
        self.c2 = conv_bn_relu(3, 8)
        self.c3 = nn.Sequential(nn.MaxPool2d(2), conv_bn_relu(8, 16))
        self.c4 = nn.Sequential(nn.MaxPool2d(2), conv_bn_relu(16, 32))
        self.lat = nn.ModuleList([nn.Conv2d(c, 16, 1) for c in (8, 16, 32)])
        self.smooth = nn.Conv2d(48, 16, 3, padding=1)

    def forward(self, x):
        c2 = self.c2(x)
        c3 = self.c3(c2)
        c4 = self.c4(c3)
        p4 = self.lat[2](c4)
        p3 = self.lat[1](c3) + F.interpolate(p4, scale_factor=2, mode="nearest")
        p2 = self.lat[0](c2) + F.interpolate(p3, scale_factor=2, mode="nearest")
        up = lambda t, k: F.interpolate(t, scale_factor=k, mode="nearest")
        return self.smooth(torch.cat([p2, up(p3, 2), up(p4, 4)], dim=1))


class LRASPPHead(nn.Module):
    """torchvision's LRASPPHead: a 1x1 conv branch gated by a pooled sigmoid branch, upsampled bilinearly and added to a low-level classifier."""

    def __init__(self, classes=3):
        super().__init__()
        self.low = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.Hardswish())
        self.high = nn.Sequential(nn.Conv2d(8, 24, 3, stride=2, padding=1), nn.Hardswish(), nn.Conv2d(24, 24, 3, stride=2, padding=1), nn.Hardswish())
        self.cbr = nn.Sequential(nn.Conv2d(24, 16, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.scale = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(24, 16, 1, bias=False), nn.Sigmoid())
        self.low_classifier = nn.Conv2d(8, classes, 1)
        self.high_classifier = nn.Conv2d(16, classes, 1)

    def forward(self, x):
        low = self.low(x)
        high = self.high(low)
        y = self.cbr(high) * self.scale(high)
        y = F.interpolate(y, size=low.shape[-2:], mode="bilinear", align_corners=False)
        y = self.low_classifier(low) + self.high_classifier(y)
        return F.interpolate(y, size=x.shape[-2:], mode="bilinear", align_corners=False)


FIXTURES = {
    "convnext_stack": (ConvNeXtStack, (3, 32, 32)),
    "swin_block": (SwinLike, (3, 32, 32)),
    "vit_block": (ViTLike, (3, 32, 32)),
    "unet": (UNetLike, (3, 16, 16)),
    "fpn_neck": (FPNNeck, (3, 16, 16)),
    "lraspp_head": (LRASPPHead, (3, 32, 32)),
}


def randomize_batchnorm(model):
    """Non-trivial running statistics, so folding BatchNorm is actually tested."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)


def main():
    os.makedirs(OUT, exist_ok=True)
    names = sys.argv[1:] or list(FIXTURES)
    for name in names:
        make, shape = FIXTURES[name]
        torch.manual_seed(0)
        model = make()
        randomize_batchnorm(model)
        model.eval()
        path = os.path.join(OUT, name + ".onnx")
        with torch.no_grad():
            torch.onnx.export(
                model, torch.randn(1, *shape), path, input_names=["x"], output_names=["y"],
                dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}, opset_version=17,
            )
        print(f"{name}: {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()

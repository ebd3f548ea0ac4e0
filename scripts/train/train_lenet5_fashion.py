#!/usr/bin/python3
"""Train the built-in model: the lecture's LeNet-5 on Fashion-MNIST, exported to ONNX.

Run with Debian's PyTorch:  /usr/bin/python3 scripts/train/train_lenet5_fashion.py

Architecture (the lecture's LeNet-5, ReLU instead of tanh, max instead of average pooling):
  input 1x28x28 -> conv1 6@5x5 pad 2 (the pad makes 28x28 act like the lecture's 32x32,
  so the model reads the data set's own size and preprocessing never pads) -> ReLU -> maxpool 2x2
  -> conv2 16@5x5 -> ReLU -> maxpool 2x2 -> flatten 400 -> fc 120 -> ReLU -> fc 84 -> ReLU -> fc 10.
Parameters: 61,706 (the lecture's 62,006 counts 3 input channels: conv1 has 6*(3*25+1) = 456
weights there, 6*(1*25+1) = 156 here).

Writes models/lenet5-fashion.{onnx,labels.txt,json} and one real test image per class to samples/.
The data set is read from the idx gz files Debian's dataset-fashion-mnist ships; nothing is downloaded.
"""
import argparse
import gzip
import json
import os
import struct
import time
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

LABELS = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat',
          'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


def read_idx(path):
    """Parses an idx file (big-endian magic with the dtype and rank, then the dims, then the data)."""
    with gzip.open(path, 'rb') as f:
        raw = f.read()
    zero, dtype_code, rank = struct.unpack('>HBB', raw[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f'{path}: not an unsigned-byte idx file (magic {raw[:4].hex()})')
    dims = struct.unpack('>' + 'I' * rank, raw[4:4 + 4 * rank])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank)
    if data.size != int(np.prod(dims)):
        raise ValueError(f'{path}: header says {dims} but holds {data.size} bytes')
    return data.reshape(dims)


def write_png_gray(path, pixels):
    """Writes an 8-bit grayscale PNG (filter type 0 on every row) with only zlib."""
    height, width = pixels.shape
    rows = b''.join(b'\x00' + pixels[y].tobytes() for y in range(height))

    def chunk(kind, body):
        return struct.pack('>I', len(body)) + kind + body + struct.pack('>I', zlib.crc32(kind + body))

    header = struct.pack('>IIBBBBB', width, height, 8, 0, 0, 0, 0)
    png = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', header) + chunk(b'IDAT', zlib.compress(rows, 9)) + chunk(b'IEND', b'')
    with open(path, 'wb') as f:
        f.write(png)


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, kernel_size=5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5)
        self.flatten = nn.Flatten()  # exports as one ONNX Flatten, not a Shape/Gather/Reshape chain
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = self.flatten(x)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def augment(batch, generator):
    """Light augmentation: random horizontal flip and a random shift of up to 2 pixels per image.
    Clothes are left/right symmetric enough that a mirror image keeps its class."""
    n = batch.shape[0]
    flip = torch.rand(n, generator=generator) < 0.5
    batch = torch.where(flip[:, None, None, None], batch.flip(3), batch)
    padded = F.pad(batch, (2, 2, 2, 2), value=float(batch.min()))
    dy = torch.randint(0, 5, (n,), generator=generator)
    dx = torch.randint(0, 5, (n,), generator=generator)
    rows = (dy[:, None] + torch.arange(28)[None, :])  # n x 28
    cols = (dx[:, None] + torch.arange(28)[None, :])
    idx_n = torch.arange(n)[:, None, None]
    return padded[idx_n, 0, rows[:, :, None], cols[:, None, :]].unsqueeze(1)


def evaluate(model, images, labels, batch_size=1000):
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            logits = model(images[start:start + batch_size])
            correct += (logits.argmax(1) == labels[start:start + batch_size]).sum().item()
    return correct / len(images)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data', default='/usr/share/datasets/fashion-mnist')
    parser.add_argument('--epochs', type=int, default=15)
    parser.add_argument('--batch-size', type=int, default=128)
    parser.add_argument('--lr', type=float, default=2e-3)
    parser.add_argument('--threads', type=int, default=2, help='the machine is shared: keep it small')
    parser.add_argument('--seed', type=int, default=7)
    parser.add_argument('--out', default=os.path.join(REPO, 'models'))
    parser.add_argument('--samples', default=os.path.join(REPO, 'samples'))
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    print(f'torch {torch.__version__}, {args.threads} thread(s)')

    train_x = read_idx(os.path.join(args.data, 'train-images-idx3-ubyte.gz'))
    train_y = read_idx(os.path.join(args.data, 'train-labels-idx1-ubyte.gz'))
    test_x_u8 = read_idx(os.path.join(args.data, 't10k-images-idx3-ubyte.gz'))
    test_y = read_idx(os.path.join(args.data, 't10k-labels-idx1-ubyte.gz'))

    # Normalisation constants come from the training set only, in [0, 1] pixel units.
    scaled = train_x.astype(np.float32) / 255.0
    mean, std = float(scaled.mean()), float(scaled.std())
    print(f'train {train_x.shape}, test {test_x_u8.shape}, mean {mean:.4f}, std {std:.4f}')

    def to_input(u8):
        return torch.from_numpy(((u8.astype(np.float32) / 255.0 - mean) / std)[:, None, :, :].copy())

    x_train, y_train = to_input(train_x), torch.from_numpy(train_y.astype(np.int64))
    x_test, y_test = to_input(test_x_u8), torch.from_numpy(test_y.astype(np.int64))

    model = LeNet5()
    parameters = sum(p.numel() for p in model.parameters())
    print(f'parameters: {parameters}')
    assert parameters == 61706, parameters

    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    steps_per_epoch = (len(x_train) + args.batch_size - 1) // args.batch_size
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr, epochs=args.epochs,
                                                    steps_per_epoch=steps_per_epoch)
    for epoch in range(args.epochs):
        model.train()
        began = time.time()
        order = torch.randperm(len(x_train), generator=generator)
        total_loss = 0.0
        for start in range(0, len(order), args.batch_size):
            index = order[start:start + args.batch_size]
            logits = model(augment(x_train[index], generator))
            loss = F.cross_entropy(logits, y_train[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            total_loss += loss.item() * len(index)
        # The test set is only reported, never used to pick an epoch: the last epoch is the model.
        accuracy = evaluate(model, x_test, y_test)
        print(f'epoch {epoch + 1:2d}  loss {total_loss / len(x_train):.4f}  '
              f'test accuracy {accuracy:.4f}  ({time.time() - began:.1f}s)', flush=True)

    accuracy = evaluate(model, x_test, y_test)
    os.makedirs(args.out, exist_ok=True)
    onnx_path = os.path.join(args.out, 'lenet5-fashion.onnx')
    model.eval()
    torch.onnx.export(model, x_test[:1], onnx_path, opset_version=13, do_constant_folding=True,
                      input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'N'}, 'logits': {0: 'N'}})
    with open(os.path.join(args.out, 'lenet5-fashion.labels.txt'), 'w') as f:
        f.write('\n'.join(LABELS) + '\n')

    # One real test image per class: the first test image of each class, whatever the model says.
    os.makedirs(args.samples, exist_ok=True)
    samples = []
    for label, name in enumerate(LABELS):
        index = int(np.nonzero(test_y == label)[0][0])
        slug = name.lower().replace('/', '-').replace(' ', '-')
        file = f'{index:04d}-{slug}.png'
        write_png_gray(os.path.join(args.samples, file), test_x_u8[index])
        with torch.no_grad():
            predicted = int(model(x_test[index:index + 1]).argmax(1))
        samples.append({'file': file, 'testIndex': index, 'label': name, 'torchPrediction': LABELS[predicted]})

    metadata = {
        'model': 'lenet5-fashion.onnx',
        'labels': 'lenet5-fashion.labels.txt',
        'architecture': 'LeNet-5 (lecture): conv 6@5x5 pad 2, maxpool 2, conv 16@5x5, maxpool 2, fc 120-84-10, ReLU',
        'parameters': parameters,
        'input': {'name': 'input', 'shape': ['N', 1, 28, 28], 'channels': 'grayscale',
                  'scale': '1/255', 'mean': [round(mean, 6)], 'std': [round(std, 6)]},
        'output': {'name': 'logits', 'shape': ['N', 10], 'note': 'raw logits; softmax gives probabilities'},
        'padding': 'conv1 pads 2 on each side, so the 28x28 image acts as the lecture 32x32 input',
        'training': {'dataset': 'Fashion-MNIST (Debian dataset-fashion-mnist)', 'epochs': args.epochs,
                     'batchSize': args.batch_size, 'optimizer': 'AdamW, one-cycle lr', 'maxLr': args.lr,
                     'weightDecay': 1e-4, 'augmentation': 'horizontal flip, shift up to 2 px',
                     'seed': args.seed, 'torch': torch.__version__},
        'testAccuracyTorch': round(accuracy, 4),
        'samples': samples,
    }
    with open(os.path.join(args.out, 'lenet5-fashion.json'), 'w') as f:
        json.dump(metadata, f, indent=2)
        f.write('\n')
    print(f'final test accuracy (torch): {accuracy:.4f}; wrote {onnx_path}')


if __name__ == '__main__':
    main()

"""Train a user-defined model with mini-batches through gdfast.minimize.

The model is a two-layer neural network (tanh hidden layer, softmax output)
written in plain NumPy: its forward pass, its cross-entropy loss and its
backward pass live in one function, ``loss_and_grad``, that the user owns.
gdfast.minimize runs the loop around it: it shuffles the data each epoch,
cuts it into mini-batches, calls the function once per batch, and applies the
momentum update in C.

All the network's weights live in one flat parameter vector; the function
reads them through reshaped views (no copies) and writes its gradient into
one flat array of the same layout, which is what minimize expects.

The data are generated: three interleaved spirals in the plane, a classic
problem a linear model cannot solve.

    python examples/mlp_minibatch.py                   # small defaults, prints the loss curve
    python examples/mlp_minibatch.py --plot curve.png  # also saves the curve (needs matplotlib)
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import gdfast


def make_spirals(n_per_class=200, n_classes=3, noise=0.2, seed=0, dtype=np.float64):
    """Points on ``n_classes`` interleaved spiral arms, labels 0..n_classes-1."""
    rng = np.random.default_rng(seed)
    radius = np.tile(np.linspace(0.05, 1.0, n_per_class), n_classes)
    label = np.repeat(np.arange(n_classes), n_per_class)
    angle = label * (2 * np.pi / n_classes) + 4.0 * radius + noise * rng.standard_normal(
        radius.size)
    x = np.column_stack([radius * np.sin(angle), radius * np.cos(angle)])
    return x.astype(dtype), label


class TwoLayerNet:
    """Shapes and the flat layout: x = [W1 (d, h), b1 (h,), W2 (h, k), b2 (k,)]."""

    def __init__(self, n_in, n_hidden, n_out):
        self.shapes = [(n_in, n_hidden), (n_hidden,), (n_hidden, n_out), (n_out,)]
        sizes = [int(np.prod(s)) for s in self.shapes]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)])
        self.size = int(self.offsets[-1])

    def unpack(self, flat):
        """Views of the flat vector as the four weight arrays (no copies)."""
        return [flat[a:b].reshape(s)
                for a, b, s in zip(self.offsets[:-1], self.offsets[1:], self.shapes)]

    def init(self, seed=0, dtype=np.float64):
        rng = np.random.default_rng(seed)
        flat = np.zeros(self.size, dtype)
        w1, _, w2, _ = self.unpack(flat)
        w1[...] = rng.standard_normal(w1.shape) / np.sqrt(w1.shape[0])
        w2[...] = rng.standard_normal(w2.shape) / np.sqrt(w2.shape[0])
        return flat

    def forward(self, flat, x):
        w1, b1, w2, b2 = self.unpack(flat)
        h = np.tanh(x @ w1 + b1)
        z = h @ w2 + b2
        z = z - z.max(axis=1, keepdims=True)        # a stable softmax
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        return h, p

    def loss_and_grad(self, flat, xb, yb, weight_decay):
        """Mean cross-entropy over the batch (+ L2 on the weights) and its gradient.

        This is the user's function: minimize calls it as fun(x, X_batch, y_batch, *args).
        """
        w1, _, w2, _ = self.unpack(flat)
        h, p = self.forward(flat, xb)
        m = len(yb)
        loss = -np.mean(np.log(p[np.arange(m), yb] + 1e-12))
        loss += 0.5 * weight_decay * (np.sum(w1 * w1) + np.sum(w2 * w2))

        grad = np.empty_like(flat)
        gw1, gb1, gw2, gb2 = self.unpack(grad)
        dz = p
        dz[np.arange(m), yb] -= 1.0
        dz /= m
        gw2[...] = h.T @ dz + weight_decay * w2
        gb2[...] = dz.sum(axis=0)
        dh = (dz @ w2.T) * (1.0 - h * h)
        gw1[...] = xb.T @ dh + weight_decay * w1
        gb1[...] = dh.sum(axis=0)
        return float(loss), grad

    def accuracy(self, flat, x, y):
        return float(np.mean(self.forward(flat, x)[1].argmax(axis=1) == y))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples", type=int, default=200, help="points per class (3 classes)")
    ap.add_argument("--hidden", type=int, default=32, help="hidden units")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=0.3)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--weight-decay", type=float, default=1e-4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--float32", action="store_true", help="train in float32")
    ap.add_argument("--plot", metavar="PNG", help="save the loss curve here (needs matplotlib)")
    args = ap.parse_args(argv)

    dtype = np.float32 if args.float32 else np.float64
    x, y = make_spirals(args.samples, seed=args.seed, dtype=dtype)
    net = TwoLayerNet(x.shape[1], args.hidden, 3)
    x0 = net.init(seed=args.seed, dtype=dtype)

    print(f"two-layer net: {net.size} parameters ({np.dtype(dtype).name}), {len(y)} samples, "
          f"batch {args.batch_size}, {args.epochs} epochs, lr {args.lr}, "
          f"Nesterov momentum {args.momentum}")
    print(f"accuracy before training: {net.accuracy(x0, x, y):.3f}")

    t0 = time.perf_counter()
    res = gdfast.minimize(net.loss_and_grad, x0, args=(args.weight_decay,), data=(x, y),
                          batch_size=args.batch_size, epochs=args.epochs, max_iter=None,
                          lr=args.lr, momentum=args.momentum, nesterov=True, seed=args.seed)
    elapsed = time.perf_counter() - t0

    print("epoch  loss")
    for epoch, loss in enumerate(res.loss_history):
        print(f"{epoch:5d}  {loss:.4f}")
    acc = net.accuracy(res.x, x, y)
    # (the first call of minimize also imports scipy.optimize for the result type)
    print(f"final loss {res.fun:.4f}, accuracy {acc:.3f}, {res.nit} updates in "
          f"{elapsed:.2f} s; {res.message}")

    if args.plot:
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            print("matplotlib is not installed: no plot", file=sys.stderr)
        else:
            fig, ax = plt.subplots(figsize=(5, 3.2))
            ax.plot(np.arange(len(res.loss_history)), res.loss_history, marker=".")
            ax.set_xlabel("epoch")
            ax.set_ylabel("mean training loss")
            ax.set_yscale("log")
            ax.set_title("two-layer net on spirals, gdfast.minimize")
            fig.tight_layout()
            fig.savefig(args.plot, dpi=120)
            print(f"loss curve saved to {args.plot}")
    return res, acc


if __name__ == "__main__":
    main()

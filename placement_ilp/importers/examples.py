"""Two small models in plain ``torch.nn`` (no torchvision), for the docs and the tests.

- :func:`tiny_transformer`: a decoder-style transformer (token and position
  embeddings, pre-norm blocks of multi-head self-attention written with
  ``matmul`` and ``softmax``, a ReLU feed-forward network, a language-model head);
- :func:`tiny_cnn`: a residual CNN (a stem, residual blocks with batch norm, one
  of them down-sampling with a 1x1 projection, global pooling, a classifier).

Parameters are drawn from a seeded generator (all of them, norms included), so
that no two parameters are equal: an ONNX exporter may merge equal initializers.
Both need the ``torch`` extra.
"""

from __future__ import annotations

from typing import Any

from .torch_import import require_torch


def _randomise(model: Any, seed: int) -> None:
    torch = require_torch()
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in list(model.parameters()) + [b for b in model.buffers() if b.is_floating_point()]:
            p.copy_(torch.rand(p.shape, generator=gen) * 0.2 + 0.9 if p.dim() <= 1 else
                    torch.randn(p.shape, generator=gen) * p.shape[-1] ** -0.5)


def tiny_transformer(layers: int = 2, d_model: int = 64, heads: int = 4, vocab: int = 128, seq: int = 16,
                     batch: int = 2, seed: int = 0) -> tuple[Any, tuple]:
    """(model in eval mode, sample input) of a small transformer over token ids.

    Example: ``model, (tokens,) = tiny_transformer(); model(tokens).shape == (2, 16, 128)``. O(parameters).
    """
    torch = require_torch()
    nn = torch.nn

    class Attention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.qkv = nn.Linear(d_model, 3 * d_model)
            self.proj = nn.Linear(d_model, d_model)

        def forward(self, x):
            b, t, d = x.shape
            q, k, v = self.qkv(x).view(b, t, 3, heads, d // heads).permute(2, 0, 3, 1, 4)
            weights = torch.softmax(q @ k.transpose(-2, -1) * (d // heads) ** -0.5, dim=-1)
            return self.proj((weights @ v).transpose(1, 2).reshape(b, t, d))

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.norm1 = nn.LayerNorm(d_model)
            self.attn = Attention()
            self.norm2 = nn.LayerNorm(d_model)
            self.ff1 = nn.Linear(d_model, 4 * d_model)
            self.ff2 = nn.Linear(4 * d_model, d_model)

        def forward(self, x):
            x = x + self.attn(self.norm1(x))
            return x + self.ff2(torch.relu(self.ff1(self.norm2(x))))

    class TinyTransformer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(vocab, d_model)
            self.pos = nn.Parameter(torch.zeros(seq, d_model))
            self.blocks = nn.Sequential(*[Block() for _ in range(layers)])
            self.norm = nn.LayerNorm(d_model)
            self.head = nn.Linear(d_model, vocab)

        def forward(self, tokens):
            return self.head(self.norm(self.blocks(self.embed(tokens) + self.pos)))

    model = TinyTransformer()
    _randomise(model, seed)
    tokens = torch.randint(0, vocab, (batch, seq), generator=torch.Generator().manual_seed(seed))
    return model.eval(), (tokens,)


def tiny_cnn(channels: int = 32, image: int = 32, batch: int = 2, classes: int = 10, seed: int = 0) -> tuple[Any, tuple]:
    """(model in eval mode, sample input) of a small residual CNN.

    Example: ``model, (x,) = tiny_cnn(); model(x).shape == (2, 10)``. O(parameters).
    """
    torch = require_torch()
    nn = torch.nn

    class Residual(nn.Module):
        def __init__(self, cin: int, cout: int, stride: int) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.shortcut = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))
                             if stride != 1 or cin != cout else nn.Identity())

        def forward(self, x):
            y = torch.relu(self.bn1(self.conv1(x)))
            return torch.relu(self.bn2(self.conv2(y)) + self.shortcut(x))

    class TinyCNN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stem = nn.Conv2d(3, channels, 3, padding=1)
            self.pool = nn.MaxPool2d(2)
            self.block1 = Residual(channels, channels, 1)
            self.block2 = Residual(channels, 2 * channels, 2)
            self.block3 = Residual(2 * channels, 2 * channels, 1)
            self.head = nn.Linear(2 * channels, classes)

        def forward(self, x):
            x = self.pool(torch.relu(self.stem(x)))
            x = self.block3(self.block2(self.block1(x)))
            return self.head(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))

    model = TinyCNN()
    _randomise(model, seed)
    x = torch.randn(batch, 3, image, image, generator=torch.Generator().manual_seed(seed))
    return model.eval(), (x,)

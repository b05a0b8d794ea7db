#!/usr/bin/env python3
"""Generate the PyTorch interop fixtures in tests/fixtures/.

Run with the venv from scripts/setup-pytorch.sh:

    "$(scripts/setup-pytorch.sh)" scripts/torch_fixture.py

Writes (a few KB each, committed; regenerate only on purpose):

  tests/fixtures/torch_sequential.safetensors     model.state_dict() of the net below
  tests/fixtures/torch_sequential_io.safetensors  "x" f32 [6, 12] inputs,
                                                  "y" f32 [6, 5] eval-mode outputs

The PyTorch model:

    nn.Sequential(nn.Flatten(), nn.Linear(12, 16), nn.BatchNorm1d(16), nn.ReLU(),
                  nn.Linear(16, 8), nn.ELU(), nn.Linear(8, 5), nn.Softmax(dim=1))

and its Rust mirror (12 input features, seen as a flattened 3x4 sample; rows of
"x" are already flat, in row-major order):

    network! { pub TorchMirror< flatten(3, 4); dense(16); batch_norm(epsilon = 1e-5);
                                relu; dense(8, elu); dense(5, softmax) > }

Key map, PyTorch Sequential index -> our layer name (the tensor suffixes
weight / bias / running_mean / running_var are the same on both sides):

    "1" -> "dense_0"        Linear(12, 16): weight [16, 12], bias [16]
    "2" -> "batch_norm_0"   BatchNorm1d(16): weight, bias, running_mean, running_var [16]
    "4" -> "dense_1"        Linear(16, 8)
    "6" -> "dense_2"        Linear(8, 5)

"2.num_batches_tracked" is an int64 scalar (3 here) that we skip by name. The
epsilon must be given explicitly: PyTorch's BatchNorm1d eps default is 1e-5, ours
(Keras') is 1e-3. With 1e-3 the outputs move by ~4e-5; dropping the running
statistics or swapping gamma/beta moves them by ~0.05. So compare "y" with an
absolute tolerance of about 1e-6 (f32 rounding here is ~1e-7).
"""
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file
from torch import nn

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"


def main() -> None:
    torch.manual_seed(20240611)
    model = nn.Sequential(
        nn.Flatten(), nn.Linear(12, 16), nn.BatchNorm1d(16), nn.ReLU(),
        nn.Linear(16, 8), nn.ELU(), nn.Linear(8, 5), nn.Softmax(dim=1),
    )
    bn = model[2]

    # A couple of training-mode forwards, so num_batches_tracked is non-zero
    # (a loader must see and skip it), then overwrite the statistics and the
    # affine parameters with values far from the 0/1 defaults: a loader that
    # drops or swaps any of them gives visibly different outputs.
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.randn(8, 3, 4))
        bn.running_mean.copy_(torch.randn(16) * 0.5)
        bn.running_var.copy_(torch.rand(16) * 1.5 + 0.25)   # in [0.25, 1.75]
        bn.weight.copy_(torch.rand(16) + 0.5)                # gamma in [0.5, 1.5]
        bn.bias.copy_(torch.randn(16) * 0.3)                 # beta
    model.eval()

    x = torch.randn(6, 3, 4)
    with torch.no_grad():
        y = model(x)
    x = x.reshape(6, 12).contiguous()
    check_with_numpy(model, x.numpy(), y.numpy())

    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    # One metadata key only: safetensors writes a map in random order, and the
    # files should be byte-identical when regenerated with the same torch.
    meta = {"generated_by": f"scripts/torch_fixture.py, torch {torch.__version__}"}
    FIXTURES.mkdir(parents=True, exist_ok=True)
    save_file(state, str(FIXTURES / "torch_sequential.safetensors"), metadata=meta)
    save_file({"x": x, "y": y.contiguous()},
              str(FIXTURES / "torch_sequential_io.safetensors"), metadata=meta)

    for k, v in state.items():
        print(f"{k:24} {str(v.dtype).removeprefix('torch.'):8} {list(v.shape)}")
    print(f"{'x':24} float32  {list(x.shape)}\n{'y':24} float32  {list(y.shape)}")


def check_with_numpy(model: nn.Sequential, x: np.ndarray, y: np.ndarray) -> None:
    """Recompute the eval forward pass by hand: this is exactly what the Rust
    mirror has to compute, so the formulas here double as its specification."""
    p = {k: v.double().numpy() for k, v in model.state_dict().items()}
    h = x.astype(np.float64) @ p["1.weight"].T + p["1.bias"]
    h = (h - p["2.running_mean"]) / np.sqrt(p["2.running_var"] + 1e-5)
    h = np.maximum(h * p["2.weight"] + p["2.bias"], 0.0)
    h = h @ p["4.weight"].T + p["4.bias"]
    h = np.where(h > 0, h, np.expm1(h))                    # ELU, alpha 1
    z = h @ p["6.weight"].T + p["6.bias"]
    e = np.exp(z - z.max(axis=1, keepdims=True))
    ref = e / e.sum(axis=1, keepdims=True)
    err = np.abs(ref - y).max()
    assert err < 1e-6, f"numpy reference differs from PyTorch by {err}"


if __name__ == "__main__":
    main()

"""Model files the service tests build for themselves (tiny, CPU, deterministic)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

# A user model module as a deployer would ship it: a plain nn.Module class, loaded by MODEL_CLASS.
USER_MODULE = '''
import time

import torch
from torch import nn


class Affine(nn.Module):
    """y = x @ W.T + b, with an optional sleep to make a batch take time and a poison value."""

    def __init__(self, n_in: int = 4, n_out: int = 3, delay_s: float = 0.0, init_delay_s: float = 0.0) -> None:
        super().__init__()
        time.sleep(init_delay_s)  # a slow load, to observe readiness before it flips
        self.lin = nn.Linear(n_in, n_out)
        self.delay_s = delay_s

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.delay_s:
            time.sleep(self.delay_s)
        if bool((x == -999.0).any()):
            raise ValueError("poison value -999 in the batch")
        return self.lin(x)
'''

W = np.array([[1.0, 0.0, 0.0, 2.0], [0.0, 1.0, 0.0, -1.0], [0.5, 0.5, 0.5, 0.5]], dtype=np.float32)
B = np.array([0.0, 1.0, -1.0], dtype=np.float32)


def expected(x: list[list[float]]) -> np.ndarray:
    out: np.ndarray = np.asarray(x, dtype=np.float32) @ W.T + B
    return out


def write_user_module(directory: Path) -> Path:
    path = directory / "user_model.py"
    path.write_text(USER_MODULE)
    return path


def state_dict_model(directory: Path) -> tuple[Path, Path]:
    """(weights.pt, user_model.py) for MODEL_CLASS=<file>:Affine."""
    import torch

    module = write_user_module(directory)
    state = {"lin.weight": torch.from_numpy(W.copy()), "lin.bias": torch.from_numpy(B.copy())}
    weights = directory / "weights.pt"
    torch.save(state, weights)
    return weights, module


def torchscript_model(directory: Path, with_meta: bool = True) -> Path:
    import torch

    lin = torch.nn.Linear(4, 3)
    with torch.no_grad():
        lin.weight.copy_(torch.from_numpy(W))
        lin.bias.copy_(torch.from_numpy(B))
    scripted = torch.jit.script(torch.nn.Sequential(lin))
    path = directory / "model.pt"
    extra = {"mlserve.json": json.dumps({"input_shape": [4], "input_dtype": "float32"})} if with_meta else {}
    torch.jit.save(scripted, str(path), _extra_files=extra)
    return path


def onnx_model(directory: Path) -> Path:
    """Y = X @ W.T + B with a symbolic batch dimension, built with onnx.helper."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["X", "Wt"], ["XW"]),
            helper.make_node("Add", ["XW", "B"], ["Y"]),
        ],
        "affine",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["N", 3])],
        initializer=[numpy_helper.from_array(W.T.copy(), "Wt"), numpy_helper.from_array(B, "B")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path = directory / "model.onnx"
    onnx.save(model, str(path))
    return path

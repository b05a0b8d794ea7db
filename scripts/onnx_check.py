#!/usr/bin/env python3
"""Checks exported ONNX models with onnx and onnxruntime (issue 15).

Usage: onnx_check.py DIR [DIR ...]

Each DIR holds `manifest.json` (written by `cargo test --test onnx -- --ignored
write_onnx_fixtures` with MLP_ONNX_DIR=DIR, or by the main job's `--export`):

    {"models": [{"file": "x.onnx", "input_dims": [28, 28],
                 "cases": [{"batch": 7, "input": [...], "expected": [...]}]}]}

For every model: `onnx.checker.check_model(full_check=True)`, strict shape inference
(`onnx.shape_inference.infer_shapes(strict_mode=True, data_prop=True)`), then onnxruntime
on each case; its output must equal ours (`expected`, from `predict`) within 1e-5
absolute. Batch sizes 1 and 7 come from the fixtures. Exits non-zero on any failure.
Needs: onnx==1.23.2, onnxruntime==1.32.0 (numpy comes with them).
"""

import json
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

TOLERANCE = 1e-5


def check_model(path: Path, spec: dict) -> list:
    failures = []
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True, data_prop=True)
    out = inferred.graph.output[0].type.tensor_type.shape.dim
    dims = [d.dim_param or d.dim_value for d in out]
    if dims[0] != "batch":
        failures.append(f"{path.name}: output's first dim is {dims[0]!r}, not the dynamic 'batch'")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    [inp] = session.get_inputs()
    if inp.name != "input" or session.get_outputs()[0].name != "output":
        failures.append(f"{path.name}: input/output are {inp.name!r}/{session.get_outputs()[0].name!r}")
    for case in spec["cases"]:
        batch = case["batch"]
        x = np.asarray(case["input"], dtype=np.float32).reshape([batch, *spec["input_dims"]])
        want = np.asarray(case["expected"], dtype=np.float32).reshape(batch, -1)
        [got] = session.run(None, {inp.name: x})
        if got.shape != want.shape:
            failures.append(f"{path.name}, batch {batch}: shape {got.shape}, expected {want.shape}")
            continue
        err = float(np.max(np.abs(got - want))) if got.size else 0.0
        status = "ok" if err <= TOLERANCE else "FAILED"
        print(f"  {path.name} batch {batch}: max |onnxruntime - ours| = {err:.2e} {status}")
        if err > TOLERANCE:
            failures.append(f"{path.name}, batch {batch}: max abs difference {err:.3e} > {TOLERANCE}")
    return failures


def main(dirs: list) -> int:
    if not dirs:
        print(__doc__, file=sys.stderr)
        return 2
    print(f"onnx {onnx.__version__}, onnxruntime {ort.__version__}")
    failures, count = [], 0
    for d in map(Path, dirs):
        manifest = json.loads((d / "manifest.json").read_text())
        for spec in manifest["models"]:
            count += 1
            try:
                failures += check_model(d / spec["file"], spec)
            except Exception as e:  # a checker or runtime error fails this file, not the rest
                failures.append(f"{spec['file']}: {type(e).__name__}: {e}")
    for f in failures:
        print(f"FAILED {f}")
    print(f"{count} models checked, {len(failures)} failures")
    return 1 if failures or count == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Checks gatenet's exports with the real clients (tests/cli/export.rs runs it).

    check_export.py MODEL.onnx MODEL.safetensors INPUTS.csv PREDICTED.csv

INPUTS.csv holds raw input rows under a header naming the features (other columns are
ignored); PREDICTED.csv is what `gatenet predict RUN --csv INPUTS.csv` printed for them. The
ONNX file must pass onnx's full check and answer as predict did under onnxruntime; the
safetensors file must load with safetensors.numpy, and a forward pass in numpy built from its
tensors and metadata alone must answer the same. Prints one line per check; exits 1 on a
mismatch.
"""
import csv
import json
import math
import sys

import numpy as np
import onnx
import onnxruntime
from safetensors import safe_open
from safetensors.numpy import load_file

TOLERANCE = 1e-5


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def predicted(path, features):
    """The numeric answer columns of predict's CSV: those after the inputs that hold numbers."""
    header, rows = read_csv(path)
    columns = [i for i, name in enumerate(header) if name not in features]
    numeric = [i for i in columns if all(_is_number(r[i]) for r in rows)]
    return [header[i] for i in numeric], np.array([[float(r[i]) for i in numeric] for r in rows])


def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def activation(name, x):
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-x))
    if name == "tanh":
        return np.tanh(x)
    if name == "relu":
        return np.maximum(x, 0.0)
    if name == "leaky_relu":
        return np.where(x > 0, x, 0.01 * x)
    if name == "gelu":
        erf = np.vectorize(math.erf)
        return x * 0.5 * (1.0 + erf(x / math.sqrt(2.0)))
    if name == "silu":
        return x / (1.0 + np.exp(-x))
    if name == "identity":
        return x
    if name == "softmax":
        e = np.exp(x - x.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    raise SystemExit(f"unknown activation {name!r} in the metadata")


def numpy_forward(path, x):
    tensors = load_file(path)
    with safe_open(path, "np") as f:
        meta = f.metadata()
    widths = json.loads(meta["widths"])
    layers = len(widths) - 1
    expected_names = {f"layers.{i}.{p}" for i in range(layers) for p in ("weight", "bias")}
    if meta["scaled_inputs"] == "true":
        expected_names |= {"input_mean", "input_std"}
        x = (x - tensors["input_mean"]) / tensors["input_std"]
    if set(tensors) != expected_names:
        raise SystemExit(f"safetensors holds {sorted(tensors)}, expected {sorted(expected_names)}")
    for i in range(layers):
        w, b = tensors[f"layers.{i}.weight"], tensors[f"layers.{i}.bias"]
        assert w.shape == (widths[i + 1], widths[i]), f"layer {i} weight {w.shape} is not torch's [out, in]"
        x = x @ w.T + b
        x = activation(meta["activation"] if i < layers - 1 else meta["output_activation"], x)
    return x, meta


def compare(what, got, want):
    if got.shape != want.shape:
        raise SystemExit(f"{what}: shape {got.shape}, predict's {want.shape}")
    worst = float(np.max(np.abs(got - want) / np.maximum(1.0, np.abs(want))))
    if not worst <= TOLERANCE:
        raise SystemExit(f"{what}: differs from gatenet predict by {worst:.3g} (tolerance {TOLERANCE})")
    print(f"{what}: matches gatenet predict on {len(want)} rows (largest difference {worst:.2g})")


def main():
    onnx_path, safetensors_path, inputs_path, predicted_path = sys.argv[1:5]
    model = onnx.load(onnx_path)
    onnx.checker.check_model(model, full_check=True)
    print(f"onnx.checker: {onnx_path} passes the full check (opset {model.opset_import[0].version})")
    meta = {p.key: p.value for p in model.metadata_props}
    features = json.loads(meta["features"])
    header, rows = read_csv(inputs_path)
    columns = [header.index(name) for name in features]
    x = np.array([[float(r[c]) for c in columns] for r in rows], dtype=np.float32)
    names, want = predicted(predicted_path, features)
    classes = json.loads(meta["classes"]) if "classes" in meta else None
    if classes is not None and names != [f"p_{c}" for c in classes]:
        raise SystemExit(f"predict's columns {names} are not the classes {classes} of the metadata")

    session = onnxruntime.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    (got,) = session.run(["output"], {"input": x})
    compare("onnxruntime", got.astype(np.float64), want)
    # The batch dimension is dynamic: one row alone gives that row's answer.
    (one,) = session.run(["output"], {"input": x[:1]})
    compare("onnxruntime, one row", one.astype(np.float64), want[:1])

    got, st_meta = numpy_forward(safetensors_path, x.astype(np.float64))
    compare("safetensors + numpy", got, want)
    for key in ("features", "targets", "activation", "output_activation", "widths"):
        if st_meta[key] != meta[key]:
            raise SystemExit(f"metadata {key}: safetensors says {st_meta[key]}, onnx {meta[key]}")


if __name__ == "__main__":
    main()

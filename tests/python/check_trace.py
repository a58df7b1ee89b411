"""Checks a `gatenet trace` JSON file with numpy, as a learner would (tests/cli/trace.rs runs it).

    check_trace.py TRACE.json MODEL.safetensors [RELATIVE ABSOLUTE]

MODEL.safetensors is `gatenet export` of the same config trained for the traced steps only.
Checks, step by step and layer by layer:
  * every array has the shape the network and the batch give it;
  * the forward pass: z = a_prev @ W + b and a = act(z), recomputed in float64;
  * the chain rule: dL/dz = dL/da * act'(z), dL/dW = a_prev.T @ dL/dz, dL/db = sum of dL/dz;
  * dL/dW and dL/db against central finite differences of the loss in float64 (step 1e-6), to
    RELATIVE (1e-6 by default; float32 sums over a larger batch round further) or ABSOLUTE
    (1e-9), for a gradient that is zero or nearly so;
  * for SGD, W_after = W_before - lr * dL/dW, in float32 as Burn computes it;
  * the last step's weights after are the weights `gatenet train` saved, bit for bit.
Prints one line per check; exits 1 on the first mismatch.
"""
import json
import sys

import numpy as np
from safetensors.numpy import load_file

F32 = np.float32


def act(name, z):
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "identity":
        return z
    if name == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    raise SystemExit(f"unknown activation {name}")


def act_grad(name, z):
    a = act(name, z)
    return {"sigmoid": a * (1 - a), "tanh": 1 - a * a, "relu": (z > 0) * 1.0, "identity": np.ones_like(z)}[name]


def loss(kind, layers, weights, x, t):
    a = x
    for layer, (w, b) in zip(layers, weights):
        z = a @ w + b
        a = act(layer["activation"], z)
    if kind == "mse":
        return np.mean((a - t) ** 2)
    if kind == "bce":
        return np.mean(np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z))))
    if kind == "cross_entropy":
        shifted = z - z.max(axis=1, keepdims=True)
        log_softmax = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return np.mean(-(log_softmax * t).sum(axis=1))
    raise SystemExit(f"loss {kind} is not checked here")


def close(name, got, want, relative=1e-6, absolute=1e-9):
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    error = np.abs(got - want)
    scale = np.maximum(np.abs(got), np.abs(want))
    bad = ~((error <= absolute) | (error <= relative * scale))
    if got.shape != want.shape or bad.any():
        worst = np.unravel_index(np.argmax(error / np.maximum(scale, 1e-30)), error.shape) if error.size else ()
        raise SystemExit(f"MISMATCH {name}: shapes {got.shape} {want.shape}, worst at {worst}: {got[worst]} vs {want[worst]}")
    print(f"ok {name} (largest error {error.max() if error.size else 0:.2e})")


def main(trace_path, model_path, relative="1e-6", absolute="1e-9"):
    relative, absolute = float(relative), float(absolute)
    with open(trace_path) as f:
        trace = json.load(f)
    kind = trace["loss"]
    for step in trace["steps"]:
        x, t = np.array(step["input"], dtype=np.float64), np.array(step["targets"], dtype=np.float64)
        layers = step["layers"]
        before = [(np.array(l["weight_before"], dtype=np.float64), np.array(l["bias_before"], dtype=np.float64)) for l in layers]
        a = x
        for i, l in enumerate(layers):
            n = f"step {step['step']} layer {l['layer']}"
            w, b = before[i]
            rows, (fan_in, fan_out) = x.shape[0], l["shapes"]["weight"]
            assert w.shape == (fan_in, fan_out) and b.shape == (fan_out,), f"{n}: W {w.shape}, b {b.shape}"
            assert l["shapes"]["z"] == [rows, fan_out], f"{n}: z shape {l['shapes']['z']}"
            z = np.array(l["z"], dtype=np.float64)
            close(f"{n} z = a_prev @ W + b", z, a @ w + b, relative=1e-5, absolute=1e-7)
            close(f"{n} a = {l['activation']}(z)", l["a"], act(l["activation"], z), relative=1e-5, absolute=1e-7)
            dz = np.array(l["dL_dz"], dtype=np.float64)
            # softmax's slope is a matrix per row, not a factor: the chain rule is checked
            # through dL/dW and the central differences instead.
            if l["dL_da"] is not None and l["activation"] != "softmax":
                close(f"{n} dL/dz = dL/da * act'(z)", dz, np.array(l["dL_da"]) * act_grad(l["activation"], z), 1e-4, 1e-9)
            if l["dL_dW"] is not None:
                close(f"{n} dL/dW = a_prev.T @ dL/dz", l["dL_dW"], a.T @ dz, 1e-4, 1e-9)
                close(f"{n} dL/db = sum of dL/dz", l["dL_db"], dz.sum(axis=0), 1e-4, 1e-9)
                for part in (0, 1):
                    analytic = np.array(l["dL_dW"] if part == 0 else l["dL_db"], dtype=np.float64)
                    numeric = np.zeros_like(analytic)
                    for k in np.ndindex(analytic.shape):
                        at = []
                        for delta in (1e-6, -1e-6):
                            moved = [(wi.copy(), bi.copy()) for wi, bi in before]
                            moved[i][part][k] += delta
                            at.append(loss(kind, layers, moved, x, t))
                        numeric[k] = (at[0] - at[1]) / 2e-6
                    close(f"{n} dL/d{'Wb'[part]} against central differences", analytic, numeric, relative, absolute)
                if trace["optimizer"].startswith("sgd") and not l["optimizer_state"]:
                    lr = F32(step["learning_rate"])
                    for part, grad in (("weight", "dL_dW"), ("bias", "dL_db")):
                        stepped = np.array(l[f"{part}_before"], dtype=F32) - np.array(l[grad], dtype=F32) * lr
                        if not np.array_equal(stepped, np.array(l[f"{part}_after"], dtype=F32)):
                            raise SystemExit(f"MISMATCH {n}: {part} after is not {part} before - lr * gradient in float32")
                        print(f"ok {n} {part} after = {part} before - lr * {grad}, bit for bit")
            a = np.array(l["a"], dtype=np.float64)
    saved = load_file(model_path)
    for i, l in enumerate(trace["steps"][-1]["layers"]):
        weight = np.array(l["weight_after"], dtype=F32)
        # The export is torch's layout, [out, in]: the trace's W is [in, out].
        if not (np.array_equal(saved[f"layers.{i}.weight"].T, weight) and np.array_equal(saved[f"layers.{i}.bias"], np.array(l["bias_after"], dtype=F32))):
            raise SystemExit(f"MISMATCH layer {i + 1}: the weights after the last step are not those `gatenet train` saved")
        print(f"ok layer {i + 1}: weights after the last traced step are the trained model's, bit for bit")


if __name__ == "__main__":
    main(*sys.argv[1:])

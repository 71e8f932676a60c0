"""Build the small int8 TFLite test model used by quantrtl's tests.

Trains a tiny Keras MLP on scikit-learn's bundled ``digits`` data set
(8x8 images, 64 features, 10 classes; no download), converts it with
full-integer post-training quantization and writes:

* ``tests/data/digits_mlp_int8.tflite`` -- three FULLY_CONNECTED ops with
  fused activations RELU, RELU6 and NONE; int8 input and output.
* ``tests/data/digits_mlp_inputs.npz`` -- ``x``: int8 (300, 64), test-set
  samples quantized with the model's input scale/zero point (round half away
  from zero, clamp to [-128, 127]); ``labels``: int64 (300,).

TensorFlow is NOT a dependency of quantrtl; it is only needed to (re)make the
model. Run from the repository root, in a separate venv::

    python3 -m venv ../tfenv
    ../tfenv/bin/pip install tensorflow scikit-learn
    ../tfenv/bin/python tools/make_tflite_model.py

(i.e. ``python tools/make_tflite_model.py`` in a venv with tensorflow and
scikit-learn). Made with tensorflow 2.21.0 / keras 3.15.1 / scikit-learn
1.9.1. Seeds are fixed and op determinism is enabled, so re-running with the
same versions gives the same files.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_DETERMINISTIC_OPS", "1")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import argparse
from pathlib import Path

import numpy as np
import tensorflow as tf
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 1234
N_TEST_SAMPLES = 300
N_REPRESENTATIVE = 300
EPOCHS = 30

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "tests" / "data"
MODEL_NAME = "digits_mlp_int8.tflite"
INPUTS_NAME = "digits_mlp_inputs.npz"


def load_data():
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)  # pixel values are 0..16
    y = digits.target.astype(np.int64)
    return train_test_split(x, y, test_size=0.25, random_state=SEED, stratify=y)


def build_model() -> tf.keras.Model:
    # activation=tf.nn.relu6 on the Dense layer lets the converter fuse it
    # into the FULLY_CONNECTED op (fused_activation_function=RELU6).
    return tf.keras.Sequential(
        [
            tf.keras.Input(shape=(64,), dtype=tf.float32, name="x"),
            tf.keras.layers.Dense(32, activation="relu", name="fc1"),
            tf.keras.layers.Dense(16, activation=tf.nn.relu6, name="fc2"),
            tf.keras.layers.Dense(10, activation=None, name="logits"),
        ]
    )


def convert(model: tf.keras.Model, x_train: np.ndarray) -> bytes:
    def representative_dataset():
        for i in range(min(N_REPRESENTATIVE, len(x_train))):
            yield [x_train[i : i + 1]]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative_dataset
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    # Per-channel weight quantization is the converter's default for
    # FULLY_CONNECTED in full-integer mode; keep it explicit.
    converter._experimental_disable_per_channel = False
    return converter.convert()


def quantize_input(x: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """Quantize float input: round half away from zero, clamp to int8."""
    v = x.astype(np.float64) / scale
    q = np.sign(v) * np.floor(np.abs(v) + 0.5) + zero_point
    return np.clip(q, -128, 127).astype(np.int8)


def check_model(tflite_bytes: bytes) -> None:
    """Assert three FC ops with fused RELU, RELU6, NONE; print weight quant."""
    interp = tf.lite.Interpreter(model_content=tflite_bytes)
    ops = interp._get_ops_details()
    names = [op["op_name"] for op in ops]
    print("ops:", names)
    assert names == ["FULLY_CONNECTED"] * 3, names

    # Fused activations are not exposed by the interpreter: read the flatbuffer.
    from tensorflow.lite.python import schema_py_generated as schema

    m = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(tflite_bytes, 0))
    act_names = {
        v: k for k, v in vars(schema.ActivationFunctionType).items() if not k.startswith("_")
    }
    acts = [act_names[op.builtinOptions.fusedActivationFunction] for op in m.subgraphs[0].operators]
    print("fused activations:", acts)
    assert acts == ["RELU", "RELU6", "NONE"], acts

    tensors = interp.get_tensor_details()
    for op in ops:
        w = tensors[op["inputs"][1]]
        qp = w["quantization_parameters"]
        kind = "per-channel" if len(qp["scales"]) > 1 else "per-tensor"
        print(
            f"  {w['name']}: shape={tuple(int(d) for d in w['shape'])} {kind} "
            f"({len(qp['scales'])} scales, qdim={qp['quantized_dimension']})"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out-dir", type=Path, default=OUT_DIR)
    args = ap.parse_args()

    tf.keras.utils.set_random_seed(SEED)
    tf.config.experimental.enable_op_determinism()

    x_train, x_test, y_train, y_test = load_data()
    model = build_model()
    model.compile(
        optimizer=tf.keras.optimizers.Adam(learning_rate=1e-2),
        loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(x_train, y_train, epochs=EPOCHS, batch_size=32, shuffle=True, verbose=0)
    float_acc = float(np.mean(np.argmax(model.predict(x_test, verbose=0), axis=1) == y_test))
    print(f"float test accuracy: {float_acc:.4f} ({len(y_test)} samples)")
    float_preds = np.argmax(model.predict(x_test, verbose=0), axis=1)

    tflite_bytes = convert(model, x_train)
    check_model(tflite_bytes)

    interp = tf.lite.Interpreter(model_content=tflite_bytes)
    interp.allocate_tensors()
    inp = interp.get_input_details()[0]
    out = interp.get_output_details()[0]
    in_scale, in_zp = inp["quantization"]
    print(f"input  scale={in_scale!r} zero_point={in_zp} dtype={inp['dtype'].__name__}")
    print(f"output scale={out['quantization'][0]!r} zero_point={out['quantization'][1]}")

    xq_all = quantize_input(x_test, in_scale, in_zp)
    preds = []
    for row in xq_all:
        interp.set_tensor(inp["index"], row[None, :])
        interp.invoke()
        preds.append(int(np.argmax(interp.get_tensor(out["index"])[0])))
    int8_acc = float(np.mean(np.array(preds) == y_test))
    print(f"int8 tflite test accuracy: {int8_acc:.4f} ({len(y_test)} samples)")

    n = min(N_TEST_SAMPLES, len(y_test))
    args.out_dir.mkdir(parents=True, exist_ok=True)
    model_path = args.out_dir / MODEL_NAME
    inputs_path = args.out_dir / INPUTS_NAME
    model_path.write_bytes(tflite_bytes)
    np.savez_compressed(inputs_path, x=xq_all[:n], labels=y_test[:n].astype(np.int64))
    print(
        f"on the {n} saved samples: float {np.mean(float_preds[:n] == y_test[:n]):.4f}, "
        f"int8 tflite {np.mean(np.array(preds[:n]) == y_test[:n]):.4f}"
    )
    print(f"wrote {model_path} ({model_path.stat().st_size} bytes)")
    print(f"wrote {inputs_path} ({inputs_path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()

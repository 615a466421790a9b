"""The scikit-learn baseline for the image examples on Fashion-MNIST (issue #15, item 8).

A 784-128-10 MLP (ReLU, Adam, scikit-learn's defaults otherwise, early stopping on 10% of the
training split) trained on the official 60,000 training images and scored on the 10,000 test
images, pixels scaled to [0, 1] as `bundled::fashion_mnist()` does. Reads Debian's
`dataset-fashion-mnist` package (or the IDX folder given as the first argument).

    python3 examples/baselines/fashion_mnist_mlp.py [/usr/share/datasets/fashion-mnist]

scikit-learn 1.9.1, numpy 2: test accuracy 0.8917 (45 iterations).
"""

import gzip
import struct
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.neural_network import MLPClassifier


def read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4 : 4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(folder: Path, prefix: str) -> tuple[np.ndarray, np.ndarray]:
    def find(kind: str) -> Path:
        for name in (f"{prefix}-{kind}", f"{prefix}-{kind}.gz"):
            if (folder / name).exists():
                return folder / name
        raise SystemExit(f"{folder}: no {prefix}-{kind}[.gz]")

    images = read_idx(find("images-idx3-ubyte"))
    labels = read_idx(find("labels-idx1-ubyte"))
    return images.reshape(len(images), -1) / 255.0, labels


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist")
    x_train, y_train = load(folder, "train")
    x_test, y_test = load(folder, "t10k")
    started = time.time()
    model = MLPClassifier(
        hidden_layer_sizes=(128,), solver="adam", early_stopping=True, random_state=0
    )
    model.fit(x_train, y_train)
    accuracy = model.score(x_test, y_test)
    print(
        f"scikit-learn MLP 784-128-10: test_accuracy={accuracy:.4f} "
        f"iterations={model.n_iter_} seconds={time.time() - started:.1f}"
    )


if __name__ == "__main__":
    main()

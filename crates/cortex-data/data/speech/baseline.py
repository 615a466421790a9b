#!/usr/bin/env python3
"""The baseline of the `speech` example: log-mel mean/std + logistic regression.

Usage: python3 baseline.py [DIGITS_DIR]   (numpy, scikit-learn)

Each clip (not padded) → log-mel frames computed as cortex-data does (25 ms periodic Hann
windows every 10 ms, frames centred with n_fft/2 zeros of padding on each side, power
spectrum, 40 HTK mel bands from 0 Hz to Nyquist, ln(max(·, 1e-10))) → the mean and the
standard deviation of every band over the clip's frames (80 numbers) → standardized →
scikit-learn's LogisticRegression. Trained on train/, scored on test/ (held-out voices).
"""

import glob
import os
import sys
import wave

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def read(path):
    with wave.open(path) as w:
        width, rate, n = w.getsampwidth(), w.getframerate(), w.getnframes()
        raw = w.readframes(n)
        channels = w.getnchannels()
    if width == 1:
        x = (np.frombuffer(raw, np.uint8).astype(np.float64) - 128) / 128
    else:
        x = np.frombuffer(raw, f"<i{width}").astype(np.float64) / 2 ** (8 * width - 1)
    return x.reshape(-1, channels).mean(axis=1), rate


def mel_filters(rate, n_fft, n_mels):
    mel = lambda f: 2595 * np.log10(1 + f / 700)
    hz = lambda m: 700 * (10 ** (m / 2595) - 1)
    points = hz(np.linspace(mel(0), mel(rate / 2), n_mels + 2))
    freqs = np.linspace(0, rate / 2, n_fft // 2 + 1)
    fb = np.zeros((n_mels, len(freqs)))
    for m in range(n_mels):
        lo, c, hi = points[m : m + 3]
        fb[m] = np.maximum(0, np.minimum((freqs - lo) / (c - lo), (hi - freqs) / (hi - c)))
    return fb


def log_mel(x, rate):
    n_fft, hop = round(rate * 0.025), round(rate * 0.010)
    x = np.pad(x, n_fft // 2)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)
    frames = [x[t : t + n_fft] * window for t in range(0, len(x) - n_fft + 1, hop)]
    power = np.abs(np.fft.rfft(np.array(frames), axis=1)) ** 2
    return np.log(np.maximum(power @ mel_filters(rate, n_fft, 40).T, 1e-10))


def load(folder):
    features, labels = [], []
    for path in sorted(glob.glob(os.path.join(folder, "*", "*.wav"))):
        x, rate = read(path)
        m = log_mel(x, rate)
        features.append(np.concatenate([m.mean(axis=0), m.std(axis=0)]))
        labels.append(os.path.basename(os.path.dirname(path)))
    return np.array(features), np.array(labels)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "digits")
    xtr, ytr = load(os.path.join(root, "train"))
    xte, yte = load(os.path.join(root, "test"))
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
    model.fit(xtr, ytr)
    print(f"train {len(ytr)} clips, test {len(yte)} clips")
    print(f"test accuracy {model.score(xte, yte):.4f}")


if __name__ == "__main__":
    main()

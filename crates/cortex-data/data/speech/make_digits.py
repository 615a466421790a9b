#!/usr/bin/env python3
"""Builds speech/digits: the spoken words zero … nine, synthesized with eSpeak NG.

Usage (Debian 12; the packages `espeak-ng` 1.51 and `sox` 14.4.2 installed):
    python3 make_digits.py OUT_DIR

The clips are synthesized speech, not recordings of people. Each clip says one digit word
with one English accent of eSpeak NG (`en-us`, `en-gb`, …), one of its voice variants
(`+f3`, `+klatt2`, … from espeak-ng-data/voices/!v), a speaking rate and a pitch drawn from a
seeded generator (random.Random(2026)). A seeded quarter of the variants is held out:
`test/` says every digit only with variants that never occur in `train/`, so the test
accuracy measures voices the model has not heard.

Each clip is resampled by sox to 8 kHz, 8-bit unsigned PCM (to keep the set near 4 MB; sox guards against clipping),
with leading and trailing silence trimmed. Layout: OUT_DIR/{train,test}/<word>/<n>.wav, with
the voice in the file name (`0007-en-gb-scotland+f2-s171-p34.wav`). Standard library only;
the same package versions give the same files.
"""

import os
import random
import subprocess
import sys
import tempfile

WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
ACCENTS = ["en-us", "en-gb", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp",
           "en-gb-x-gbcwmd", "en-029"]
VARIANTS_DIR = "/usr/lib/x86_64-linux-gnu/espeak-ng-data/voices/!v"
TRAIN, TEST = 100, 30  # clips per word
HELD_OUT = 0.25       # share of the variants kept for test


def synthesize(text: str, voice: str, rate: int, pitch: int, amplitude: int, out: str) -> None:
    with tempfile.NamedTemporaryFile(suffix=".wav") as raw:
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate), "-p", str(pitch),
                        "-a", str(amplitude), "-w", raw.name, text], check=True)
        # 8 kHz, 8 bits; trim silence at both ends (below 0.5 % for 20 ms).
        subprocess.run(["sox", "-D", "-G", raw.name, "-r", "8000", "-b", "8", out,
                        "silence", "1", "0.02", "0.5%", "reverse",
                        "silence", "1", "0.02", "0.5%", "reverse"], check=True)


def main() -> None:
    out = sys.argv[1] if len(sys.argv) > 1 else "digits"
    rng = random.Random(2026)
    variants = sorted(os.listdir(VARIANTS_DIR))
    rng.shuffle(variants)
    held = round(len(variants) * HELD_OUT)
    pools = {"test": sorted(variants[:held]), "train": sorted(variants[held:])}
    for split, count in (("train", TRAIN), ("test", TEST)):
        for word in WORDS:
            folder = os.path.join(out, split, word)
            os.makedirs(folder, exist_ok=True)
            for n in range(count):
                accent = rng.choice(ACCENTS)
                variant = rng.choice(pools[split])
                rate = rng.randint(110, 230)
                pitch = rng.randint(10, 90)
                amplitude = rng.randint(50, 110)
                voice = f"{accent}+{variant}"
                name = f"{n:04d}-{voice}-s{rate}-p{pitch}.wav".replace(" ", "_")
                synthesize(word, voice, rate, pitch, amplitude, os.path.join(folder, name))
    print("held-out variants:", " ".join(pools["test"]))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Builds text/words.csv: single words of ten languages, from Debian's word-list packages.

Usage (in an empty directory, Debian's archive reachable):
    apt-get download wamerican wfrench wngerman witalian wspanish wportuguese wdutch \
        wswedish wdanish wpolish
    python3 make_words.py . > words.csv

For each language: the words of /usr/share/dict/<list>, lower-cased; kept when alphabetic
(str.isalpha) and at least 3 letters long; words found in more than one language's list are
dropped (their label would be ambiguous). Then a seeded sample (random.Random(2026)) of 5,000
words per language: the first 4,000 are `train`, the last 1,000 `test`. Standard library only;
the same packages give the same file.
"""

import glob
import os
import random
import subprocess
import sys
import tempfile

# language code -> (package, file under usr/share/dict, encoding)
LISTS = {
    "en": ("wamerican", "american-english", "utf-8"),
    "fr": ("wfrench", "french", "utf-8"),
    "de": ("wngerman", "ngerman", "utf-8"),
    "it": ("witalian", "italian", "utf-8"),
    "es": ("wspanish", "spanish", "utf-8"),
    "pt": ("wportuguese", "portuguese", "utf-8"),
    "nl": ("wdutch", "dutch", "utf-8"),
    "sv": ("wswedish", "swedish", "iso-8859-1"),
    "da": ("wdanish", "danish", "utf-8"),
    "pl": ("wpolish", "polish", "utf-8"),
}
TRAIN, TEST = 4000, 1000


def words(debs: str, package: str, name: str, encoding: str) -> set:
    (deb,) = glob.glob(os.path.join(debs, f"{package}_*.deb"))
    with tempfile.TemporaryDirectory() as root:
        subprocess.run(["dpkg-deb", "-x", deb, root], check=True)
        with open(os.path.join(root, "usr/share/dict", name), encoding=encoding) as f:
            lines = f.read().split("\n")
    return {w for w in (line.strip().lower() for line in lines) if w.isalpha() and len(w) >= 3}


def main() -> None:
    debs = sys.argv[1] if len(sys.argv) > 1 else "."
    lists = {code: words(debs, *spec) for code, spec in LISTS.items()}
    seen = {}
    for code, found in lists.items():
        for w in found:
            seen[w] = seen.get(w, 0) + 1
    rng = random.Random(2026)
    print("word,language,split")
    for code, found in lists.items():
        unique = sorted(w for w in found if seen[w] == 1)
        sample = rng.sample(unique, TRAIN + TEST)
        for i, w in enumerate(sample):
            print(f"{w},{code},{'train' if i < TRAIN else 'test'}")


if __name__ == "__main__":
    main()

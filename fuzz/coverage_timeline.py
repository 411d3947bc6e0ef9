#!/usr/bin/env python3
"""When a run found its edges, and where they are: a fuzzing run's
coverage at checkpoints, from the times libFuzzer wrote its corpus files.

Usage: python3 fuzz/coverage_timeline.py TARGET START MINUTES
TARGET's corpus (fuzz/corpus/TARGET) and seeds are listed as they stood at
START (an ISO time such as 2026-11-28T14:04) and every MINUTES after it,
up to the newest corpus file, each with the build fuzz/run.sh last made.
Each row says how many of the edges the whole corpus covers were still
missing at that time, by where their code is (imsprep, std, dependency):
a column that reaches 0 says when the run last found an edge there.

libFuzzer deletes an input from the corpus folder when it writes a smaller
one covering the same, and the smaller one carries the later time, so a
checkpoint can miss what a since-reduced input covered: the times this
prints are when each edge was found at the latest, never earlier.
"""
import datetime
import os
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
from coverage_diff import load, new_edges, total  # noqa: E402

FUZZ = os.path.dirname(os.path.abspath(__file__))


def listing(target, files, out):
    """coverage.sh over a folder of hard links to FILES."""
    # Hard links need the same file system; target/ is ignored by git.
    with tempfile.TemporaryDirectory(dir=os.path.join(FUZZ, "target")) as tmp:
        for i, path in enumerate(files):
            try:
                os.link(path, os.path.join(tmp, str(i)))
            except FileNotFoundError:
                pass  # reduced away by a run still going
        with open(out, "w") as f:
            subprocess.run(["sh", os.path.join(FUZZ, "coverage.sh"), target, tmp],
                           stdout=f, check=True)
    return load(out)


def main():
    target, start, step = sys.argv[1], sys.argv[2], float(sys.argv[3])
    start = datetime.datetime.fromisoformat(start).timestamp()
    corpus = os.path.join(FUZZ, "corpus", target)
    seeds = os.path.join(FUZZ, "seeds", target)
    found = [(os.stat(p).st_mtime, p) for p in
             (os.path.join(corpus, n) for n in os.listdir(corpus))]
    seed_files = [os.path.join(seeds, n) for n in os.listdir(seeds)]
    end = max(t for t, _ in found)
    with tempfile.TemporaryDirectory() as scratch:
        final = listing(target, seed_files + [p for _, p in found],
                        os.path.join(scratch, "final"))
        print(f"{target}: {total(final)} edges at the end "
              f"({datetime.datetime.fromtimestamp(end):%H:%M:%S})")
        print("time\tcorpus files\tedges\tmissing: imsprep\tstd\tdependency")
        at = start
        while at < end:
            files = [p for t, p in found if t <= at]
            now = listing(target, seed_files + files, os.path.join(scratch, "now"))
            missing, _ = new_edges(now, final)
            print(f"{datetime.datetime.fromtimestamp(at):%H:%M}\t{len(files)}\t"
                  f"{total(now)}\t{missing['imsprep']}\t{missing['std']}\t"
                  f"{missing['dependency']}", flush=True)
            at += step * 60


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Where the edges a fuzzing run added are: in imsprep, the standard library
or a dependency.

Usage: python3 fuzz/coverage_diff.py BEFORE AFTER [LINES]
BEFORE and AFTER are listings from fuzz/coverage.sh of the corpus before and
after a run, made with the same build. An edge counts as new when its
function listed it uncovered before and not after, or when the whole
function is new; it is put where libFuzzer's source line for it lies.
"""
import collections
import re
import sys

FUNC = re.compile(r"(UN)?COVERED_FUNC: hits: \d+ edges: (\d+)/(\d+) (.*) (\S+)$")
PC = re.compile(r"\s+UNCOVERED_PC: (\S+)")


def load(path):
    """Function -> (covered edges, uncovered source lines as a multiset)."""
    funcs, current = {}, None
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            m = FUNC.match(line)
            if m:
                current = (m.group(4), m.group(5))
                funcs[current] = (int(m.group(2)), collections.Counter())
                continue
            m = PC.match(line)
            if m and current:
                funcs[current][1][m.group(1)] += 1
    return funcs


def area(location):
    # /rust/deps/ holds the crates the standard library is built from
    # (hashbrown, for one).
    if location.startswith(("/rustc/", "/rust/deps/")):
        return "std"
    if "/.cargo/registry/" in location:
        return "dependency"
    if "/crates/" in location or "/fuzz/" in location:
        return "imsprep"
    return "other"


def short(location):
    return re.sub(r".*/(library|crates|src)/", r"\1/", location)


def new_edges(before, after):
    """Edges covered in AFTER but not in BEFORE, counted by area and by
    source line (with the function they were listed in)."""
    by_area, by_line = collections.Counter(), collections.Counter()
    for key, (covered, uncovered) in after.items():
        name, location = key
        old = before.get(key)
        if old is None or old[0] == 0:
            if covered:
                by_area[area(location)] += covered
                by_line[(short(location), "(newly reached) " + name[:60])] += covered
            continue
        for line, n in (old[1] - uncovered).items():
            by_area[area(line)] += n
            by_line[(short(line), name[:60])] += n
    return by_area, by_line


def total(listing):
    return sum(c for c, _ in listing.values())


def main():
    before, after = load(sys.argv[1]), load(sys.argv[2])
    limit = int(sys.argv[3]) if len(sys.argv) > 3 else 40
    by_area, by_line = new_edges(before, after)
    print(f"edges before {total(before)}, after {total(after)}")
    print("new edges by where their code is:", dict(by_area) or "none")
    for (line, name), n in by_line.most_common(limit):
        print(f"{n}\t{line}\t{name}")


if __name__ == "__main__":
    main()

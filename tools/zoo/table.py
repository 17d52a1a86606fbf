#!/usr/bin/env python3
"""Prints the zoo's markdown table from the run folders of tools/zoo/run.sh (or collapse.sh).

Usage: python3 tools/zoo/table.py RUNS_DIR [NAME ...]
Reads RUNS_DIR/NAME/eval.json (the `summary` of `ganforge eval --json`) and RUNS_DIR/NAME/wall.txt.
With no names, every folder holding an eval.json, sorted.
"""
import json
import os
import sys

COLUMNS = [("fid", "FID", "{:.1f}"), ("kid", "KID", "{:.2f}"), ("precision", "precision", "{:.3f}"),
           ("recall", "recall", "{:.3f}"), ("coverage", "coverage", "{:.3f}"), ("classes_covered", "classes", "{:.0f}"),
           ("class_kl", "class KL", "{:.3f}")]


def main():
    root = sys.argv[1]
    names = sys.argv[2:] or sorted(d for d in os.listdir(root) if os.path.isfile(os.path.join(root, d, "eval.json")))
    print("| run | " + " | ".join(c[1] for c in COLUMNS) + " | wall (min) |")
    print("|---|" + "---:|" * (len(COLUMNS) + 1))
    floor = None
    for name in names:
        path = os.path.join(root, name, "eval.json")
        if not os.path.isfile(path):
            print(f"| {name} | " + " | ".join("(running)" for _ in COLUMNS) + " | |")
            continue
        summary = json.load(open(path))["summary"]
        floor = floor or summary
        wall = open(os.path.join(root, name, "wall.txt")).read().strip() if os.path.isfile(os.path.join(root, name, "wall.txt")) else ""
        cells = [fmt.format(summary[key]["value"]) if key in summary else "" for key, _, fmt in COLUMNS]
        wall_cell = f"{int(wall) / 60:.0f}" if wall else ""
        print(f"| {name} | " + " | ".join(cells) + f" | {wall_cell} |")
    if floor:
        cells = [fmt.format(floor[key]["floor"]) if key in floor and floor[key]["floor"] is not None else "-" for key, _, fmt in COLUMNS]
        print("| real vs real (floor) | " + " | ".join(cells) + " | |")


if __name__ == "__main__":
    main()

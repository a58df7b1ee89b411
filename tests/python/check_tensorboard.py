"""Reads a run's TensorBoard events with TensorBoard's own reader and compares every scalar
with metrics.csv (tests/cli/tensorboard.rs runs it).

    check_tensorboard.py RUN_DIR

Each metrics.csv column after `epoch` must be a series with exactly one value per epoch, in
order, equal to the column's value as float32 (NaN where the column says NaN). Prints a line;
exits 1 on a difference.
"""
import csv
import math
import os
import sys

import numpy as np
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def main():
    run = sys.argv[1]
    with open(os.path.join(run, "metrics.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    accumulator = EventAccumulator(os.path.join(run, "tensorboard"), size_guidance={"scalars": 0})
    accumulator.Reload()
    tags = accumulator.Tags()["scalars"]
    columns = [c for c in rows[0] if c != "epoch"]
    if sorted(tags) != sorted(columns):
        raise SystemExit(f"series {sorted(tags)}, metrics.csv columns {sorted(columns)}")
    epochs = [int(r["epoch"]) for r in rows]
    for tag in tags:
        events = accumulator.Scalars(tag)
        steps = [e.step for e in events]
        if steps != epochs:
            raise SystemExit(f"{tag}: steps {steps[:5]}...{steps[-5:]} ({len(steps)}), epochs 1 to {len(epochs)}")
        for event, row in zip(events, rows):
            want = np.float32(float(row[tag]))
            got = np.float32(event.value)
            same = (math.isnan(want) and math.isnan(got)) or want == got
            if not same:
                raise SystemExit(f"{tag} at epoch {event.step}: TensorBoard {got}, metrics.csv {row[tag]}")
    print(f"tensorboard: {len(tags)} series x {len(epochs)} epochs equal metrics.csv")


if __name__ == "__main__":
    main()

"""Checks bench/aggregators.py against crowd-kit itself, on a crowd like the bench's (600 tasks,
40 workers: 20 at 90%, 12 at 70%, 8 random clickers, 45 answers each): GLAD's posteriors and
labels, Wawa's labels (ties aside: crowd-kit gives them to the first label in its column order,
we draw).

crowd-kit needs pandas and scikit-learn, which the bot does not; its Wawa fails with
scikit-learn 1.9 (no `__sklearn_tags__`), so use 1.5. In a separate environment:

    python3.11 -m venv /tmp/ck && /tmp/ck/bin/pip install numpy==2.4.6 scipy==1.17.1 \\
        crowd-kit==1.4.2 scikit-learn==1.5.2
    /tmp/ck/bin/python -m bench.crowdkit_check        # from the repository's root
"""

from __future__ import annotations

import importlib
import time
from typing import Any

import numpy as np

from bench import aggregators


def main() -> None:
    pandas: Any = importlib.import_module("pandas")
    crowdkit: Any = importlib.import_module("crowdkit.aggregation")
    rng = np.random.default_rng(1)
    truth = rng.integers(0, 3, 600)
    rows = []
    for worker in range(40):
        q = 0.9 if worker < 20 else (0.7 if worker < 32 else 1 / 3)
        for task in rng.choice(600, 45, replace=False):
            label = truth[task] if rng.random() < q else (truth[task] + rng.integers(1, 3)) % 3
            rows.append((int(task), worker, int(label)))
    frame = pandas.DataFrame(rows, columns=["task", "worker", "label"])
    answers = np.array(rows, dtype=np.int64)
    tasks, workers, labels = answers[:, 0], answers[:, 1], answers[:, 2]
    seen = np.unique(tasks)

    started = time.perf_counter()
    theirs = crowdkit.GLAD().fit(frame).probas_.sort_index()[[0, 1, 2]].to_numpy()
    their_time = time.perf_counter() - started
    started = time.perf_counter()
    ours = aggregators.glad(tasks, workers, labels, 600, 40, 3)[seen]
    our_time = time.perf_counter() - started
    same = (theirs.argmax(axis=1) == ours.argmax(axis=1)).mean()
    print(
        f"GLAD: labels equal on {same:.1%} of {len(seen)} tasks, largest posterior difference"
        f" {np.abs(theirs - ours).max():.1e}; crowd-kit {their_time:.2f} s, ours {our_time:.2f} s"
    )

    their_wawa = crowdkit.Wawa().fit_predict(frame).sort_index().to_numpy()
    our_wawa = aggregators.wawa(tasks, workers, labels, 600, 40, 3, rng)[seen]
    accuracy = (their_wawa == truth[seen]).mean(), (our_wawa == truth[seen]).mean()
    print(
        f"Wawa: labels equal on {(their_wawa == our_wawa).mean():.1%} of tasks (the rest: ties);"
        f" right: crowd-kit {accuracy[0]:.3f}, ours {accuracy[1]:.3f}"
    )


if __name__ == "__main__":
    main()

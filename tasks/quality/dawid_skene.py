"""Offline aggregation for exports and benchmarks: majority vote and Dawid-Skene, on numpy
arrays of answers (task, worker, label indices)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


def majority_vote(tasks: IntArray, labels: IntArray, n_tasks: int, n_labels: int) -> IntArray:
    """Plain majority per task (ties: the lowest label index); -1 for a task without answers."""
    counts = np.zeros((n_tasks, n_labels))
    np.add.at(counts, (tasks, labels), 1.0)
    result: IntArray = counts.argmax(axis=1).astype(np.int64)
    result[counts.sum(axis=1) == 0] = -1
    return result


def dawid_skene(
    tasks: IntArray,
    workers: IntArray,
    labels: IntArray,
    n_tasks: int,
    n_workers: int,
    n_labels: int,
    *,
    iterations: int = 50,
    tolerance: float = 1e-6,
) -> FloatArray:
    """Dawid & Skene (1979) by EM: each worker a confusion matrix, each task a posterior over
    labels. Inputs are parallel arrays of answers (task, worker, label indices); returns the
    (n_tasks, n_labels) posteriors (uniform for a task without answers)."""
    posterior = np.zeros((n_tasks, n_labels))
    np.add.at(posterior, (tasks, labels), 1.0)
    seen = posterior.sum(axis=1, keepdims=True)
    posterior = np.where(seen > 0, posterior / np.maximum(seen, 1), 1.0 / n_labels)
    for _ in range(iterations):
        # M-step: class priors and confusion matrices (with add-one smoothing).
        priors = posterior.sum(axis=0) + 1.0
        priors /= priors.sum()
        confusion = np.full((n_workers, n_labels, n_labels), 0.01)
        for true in range(n_labels):
            np.add.at(confusion[:, true, :], (workers, labels), posterior[tasks, true])
        confusion /= confusion.sum(axis=2, keepdims=True)
        # E-step: log posterior of each task's true label.
        log_post = np.tile(np.log(priors), (n_tasks, 1))
        np.add.at(log_post, tasks, np.log(confusion[workers, :, labels]))
        log_post -= log_post.max(axis=1, keepdims=True)
        updated = np.exp(log_post)
        updated /= updated.sum(axis=1, keepdims=True)
        updated[seen[:, 0] == 0] = 1.0 / n_labels
        change = float(np.abs(updated - posterior).max()) if n_tasks else 0.0
        posterior = updated
        if change < tolerance:
            break
    return posterior

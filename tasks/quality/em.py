"""Each worker's skill learned from all their answers: a one-coin EM over a pack's answers,
anchored by the gold, with a prior that keeps a worker with few answers near the crowd's
average. Pure numpy, no database (tasks/quality/skills.py reads the answers and stores the fit).

The model (one-coin Dawid-Skene, as GLAD without task difficulty): each item (a task, or for
multi_choice a task's option, yes or no) has a true class k drawn from the priors; worker j
answers "right" with probability q_j. "Right" is the class itself, or for a rating any point
within the pack's `tolerance` of it (`tolerance` 0: the class itself); a wrong answer falls
evenly on the other classes. So

    P(label l | true k) = q_j / w_k             when |l - k| <= tolerance (w_k such labels)
                        = (1 - q_j) / (n - w_k) otherwise.

EM: the E-step gives every item its posterior over classes (gold items stay at their gold: the
anchors); the M-step sets each q_j to the share of their answers the posteriors say are right,
with a Beta prior of PRIOR_ANSWERS pseudo-answers at the crowd's pooled accuracy on the gold,
(1 + right) / (2 + answered) over every gold answer of the pack (0.5 without gold: the crowd's
agreement alone never raises it), so a worker with three answers is not trusted on three answers
alone and one with forty is judged on them; and the class priors to the posteriors' average
(Dirichlet-smoothed, over the items that are not gold).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

PRIOR_ANSWERS = 4.0  # the Beta prior's weight, in answers, at the crowd's pooled accuracy
ITERATIONS = 100
TOLERANCE = 1e-6  # the largest change of any skill that ends the iterations
Q_MIN, Q_MAX = 1e-4, 1 - 1e-4


@dataclass(frozen=True)
class Fit:
    skills: FloatArray  # (n_workers,): each worker's probability of a right answer
    answers: IntArray  # (n_workers,): the answers behind each skill
    priors: FloatArray  # (n_classes,): the classes' estimated shares
    posterior: FloatArray  # (n_items, n_classes); gold items one-hot, no answers: the priors
    prior_mean: float  # the crowd's pooled accuracy on the gold, the prior's centre
    iterations: int


def match_matrix(n_classes: int, tolerance: int = 0) -> NDArray[np.bool_]:
    """match[l, k]: the label l counts as right when the truth is k."""
    positions = np.arange(n_classes)
    match: NDArray[np.bool_] = np.abs(positions[:, None] - positions[None, :]) <= tolerance
    return match


def log_likelihood(labels: IntArray, skills: FloatArray, match: NDArray[np.bool_]) -> FloatArray:
    """(n_answers, n_classes): log P(label | true class) of each answer, `skills` per answer."""
    n = match.shape[0]
    width = match.sum(axis=0).astype(np.float64)  # w_k
    outside = np.maximum(n - width, 1.0)
    q = np.clip(skills, Q_MIN, Q_MAX)[:, None]
    right = np.log(q) - np.log(width)[None, :]
    wrong = np.log1p(-q) - np.log(outside)[None, :]
    result: FloatArray = np.where(match[labels], right, wrong)
    # A class whose every label counts as right (a tolerance as wide as the scale): no evidence.
    everything = width >= n
    if everything.any():
        result[:, everything] = -np.log(float(n))
    return result


def posteriors(
    items: IntArray,
    labels: IntArray,
    answer_skills: FloatArray,
    n_items: int,
    priors: FloatArray,
    match: NDArray[np.bool_],
) -> FloatArray:
    """(n_items, n_classes): each item's posterior over classes given its answers."""
    loglik = log_likelihood(labels, answer_skills, match)
    n_classes = match.shape[0]
    log_post = np.empty((n_items, n_classes))
    for k in range(n_classes):
        log_post[:, k] = np.bincount(items, weights=loglik[:, k], minlength=n_items)
    log_post += np.log(priors)[None, :]
    log_post -= log_post.max(axis=1, keepdims=True)
    post: FloatArray = np.exp(log_post)
    post /= post.sum(axis=1, keepdims=True)
    return post


def one_coin_em(
    items: IntArray,
    workers: IntArray,
    labels: IntArray,
    gold: IntArray,
    n_workers: int,
    n_classes: int,
    *,
    tolerance: int = 0,
    prior_answers: float = PRIOR_ANSWERS,
    iterations: int = ITERATIONS,
    stop_at: float = TOLERANCE,
) -> Fit:
    """The fit over parallel arrays of answers (item, worker, label indices); `gold[i]` is item
    i's gold class, or -1 (not gold, or a gold under review: no anchor)."""
    n_items = len(gold)
    match = match_matrix(n_classes, tolerance)
    anchored = gold >= 0
    anchor = np.zeros((n_items, n_classes))
    anchor[np.flatnonzero(anchored), gold[anchored]] = 1.0
    answers = np.bincount(workers, minlength=n_workers).astype(np.int64)
    # Start from the plain vote (gold items at their gold).
    post = np.zeros((n_items, n_classes))
    np.add.at(post, (items, labels), 1.0)
    seen = post.sum(axis=1, keepdims=True)
    post = np.where(seen > 0, post / np.maximum(seen, 1.0), 1.0 / n_classes)
    post[anchored] = anchor[anchored]
    on_gold = anchored[items]
    gold_right = float(match[labels[on_gold], gold[items[on_gold]]].sum())
    prior_mean = (1.0 + gold_right) / (2.0 + float(on_gold.sum()))
    skills = np.full(n_workers, prior_mean)
    priors = np.full(n_classes, 1.0 / n_classes)
    done = 0
    while done < iterations:
        done += 1
        # M-step: skills (the share of right answers, by the posteriors, with the prior) and
        # class priors (from the items that are not gold: the gold's mix is the operator's).
        right = (post[items] * match[labels]).sum(axis=1)
        correct = np.bincount(workers, weights=right, minlength=n_workers)
        updated = (prior_answers * prior_mean + correct) / (prior_answers + answers)
        updated = np.clip(updated, Q_MIN, Q_MAX)
        free = ~anchored & (seen[:, 0] > 0)
        priors = (post[free].sum(axis=0) + 1.0) / (free.sum() + n_classes)
        change = float(np.abs(updated - skills).max()) if n_workers else 0.0
        skills = updated
        # E-step.
        post = posteriors(items, labels, skills[workers], n_items, priors, match)
        post[anchored] = anchor[anchored]
        if change < stop_at:
            break
    return Fit(skills, answers, priors, post, prior_mean, done)

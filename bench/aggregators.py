"""Reference aggregations for the benchmarks, on numpy arrays of answers (task, worker, label
indices): Wawa, GLAD and the oracle vote. Majority vote and Dawid-Skene are the bot's own
(tasks/quality/dawid_skene.py).

GLAD and Wawa follow crowd-kit 1.4.2 (crowdkit.aggregation.classification) step by step:
GLAD's model, priors (alpha ~ N(1, 1), log-difficulty beta ~ N(1, 1), uniform class priors),
initialisation, E-step, M-step (scipy's conjugate gradients, 25 iterations, tol 0.01), stopping
rule (100 EM iterations, 1e-5); Wawa's majority vote, each worker's agreement with it as their
skill, then the vote weighed by those skills. crowd-kit itself needs pandas and scikit-learn
(and its Wawa fails with scikit-learn 1.9); `python -m bench.crowdkit_check`, run where crowd-kit
is installed, compares the two on the bench's answers (docs/quality.md gives the comparison).

Ties: every vote here breaks ties by a fair draw (`rng`), never by the lowest label index.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize
from scipy.special import expit, log_expit

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


def fair_argmax(scores: FloatArray, rng: np.random.Generator) -> IntArray:
    """Each row's best column; ties (within 1e-9) broken by a uniform draw among the tied."""
    top = scores.max(axis=1, keepdims=True)
    tied = scores >= top - 1e-9 * np.maximum(1.0, np.abs(top))
    draw = rng.random(scores.shape) * tied
    best: IntArray = draw.argmax(axis=1).astype(np.int64)
    return best


def weighted_vote(
    tasks: IntArray,
    labels: IntArray,
    weights: FloatArray,
    n_tasks: int,
    n_labels: int,
    rng: np.random.Generator,
) -> IntArray:
    """The label of most summed weight per task (fair ties); -1 for a task without answers."""
    scores = np.zeros((n_tasks, n_labels))
    np.add.at(scores, (tasks, labels), weights)
    best = fair_argmax(scores, rng)
    best[np.bincount(tasks, minlength=n_tasks) == 0] = -1
    return best


def majority(
    tasks: IntArray, labels: IntArray, n_tasks: int, n_labels: int, rng: np.random.Generator
) -> IntArray:
    return weighted_vote(tasks, labels, np.ones(len(tasks)), n_tasks, n_labels, rng)


def wawa(
    tasks: IntArray,
    workers: IntArray,
    labels: IntArray,
    n_tasks: int,
    n_workers: int,
    n_labels: int,
    rng: np.random.Generator,
) -> IntArray:
    """Worker Agreement With Aggregate: majority vote, each worker's share of answers equal to
    it as their skill, then the vote weighed by the skills."""
    first = majority(tasks, labels, n_tasks, n_labels, rng)
    agree = np.bincount(workers, weights=labels == first[tasks], minlength=n_workers)
    skills = agree / np.maximum(np.bincount(workers, minlength=n_workers), 1)
    return weighted_vote(tasks, labels, skills[workers], n_tasks, n_labels, rng)


def oracle(
    tasks: IntArray,
    labels: IntArray,
    accuracy: FloatArray,
    n_tasks: int,
    n_labels: int,
    rng: np.random.Generator,
) -> IntArray:
    """The best vote possible on these answers: each answer weighed by its worker's true
    accuracy q (`accuracy`, per answer), log((n - 1) q / (1 - q)), the one-coin posterior's
    argmax with uniform class priors (what the bench draws). A random clicker (q = 1 / n) weighs
    0; so does a first-button spammer, whose accuracy is 1 / n too."""
    q = np.clip(accuracy, 1e-6, 1 - 1e-6)
    weights = np.log((n_labels - 1) * q / (1 - q))
    return weighted_vote(tasks, labels, weights, n_tasks, n_labels, rng)


def glad(
    tasks: IntArray,
    workers: IntArray,
    labels: IntArray,
    n_tasks: int,
    n_workers: int,
    n_labels: int,
    *,
    n_iter: int = 100,
    tol: float = 1e-5,
    m_step_max_iter: int = 25,
    m_step_tol: float = 1e-2,
) -> FloatArray:
    """GLAD (Whitehill et al. 2009) as crowd-kit 1.4.2 fits it; returns the (n_tasks, n_labels)
    posteriors. P(right) = sigmoid(alpha_worker * exp(beta_task)); a wrong answer falls evenly
    on the other labels; alpha ~ N(1, 1), beta ~ N(1, 1), class priors uniform and fixed."""
    log_priors = np.full(n_labels, -np.log(n_labels))
    log_wrong = np.log(n_labels - 1)
    # delta[a, k]: answer a names label k (crowd-kit's melted frame, one row per answer x label)
    delta = labels[:, None] == np.arange(n_labels)[None, :]
    answers = len(tasks) * n_labels
    alpha = np.ones(n_workers)
    beta = np.ones(n_tasks)

    def answer_terms(a: FloatArray, b: FloatArray) -> tuple[FloatArray, FloatArray]:
        ab = a[workers] * np.exp(b[tasks])
        return log_expit(ab), log_expit(-ab)

    def e_step(a: FloatArray, b: FloatArray) -> FloatArray:
        log_right, log_not = answer_terms(a, b)
        per_answer = np.where(delta, log_right[:, None], (log_not - log_wrong)[:, None])
        scores = np.zeros((n_tasks, n_labels))
        for k in range(n_labels):
            scores[:, k] = np.bincount(tasks, weights=per_answer[:, k], minlength=n_tasks)
        scores += log_priors[None, :]
        scores -= scores.max(axis=1, keepdims=True)
        post: FloatArray = np.exp(scores)
        post /= post.sum(axis=1, keepdims=True)
        return post

    def q_value(a: FloatArray, b: FloatArray, post: FloatArray) -> float:
        log_right, log_not = answer_terms(a, b)
        per_answer = np.where(delta, log_right[:, None], (log_not - log_wrong)[:, None])
        value = float((post[tasks] * per_answer).sum())
        # log N(x - 1; 0, 1) summed over alphas and betas
        value += float((-0.5 * (a - 1) ** 2 - 0.5 * np.log(2 * np.pi)).sum())
        value += float((-0.5 * (b - 1) ** 2 - 0.5 * np.log(2 * np.pi)).sum())
        return value

    def gradient(a: FloatArray, b: FloatArray, post: FloatArray) -> FloatArray:
        eb = np.exp(b[tasks])
        sigma = expit(a[workers] * eb)
        # summed over the labels of each answer: posterior x (delta - sigma)
        weight = (post[tasks] * (delta - sigma[:, None])).sum(axis=1)
        d_beta = np.bincount(tasks, weights=weight * a[workers] * eb, minlength=n_tasks) - (b - 1)
        d_alpha = np.bincount(workers, weights=weight * eb, minlength=n_workers) - (a - 1)
        return np.concatenate([d_alpha, d_beta])

    post = e_step(alpha, beta)
    last = q_value(alpha, beta, post)  # crowd-kit compares the first, unscaled value too
    for _ in range(n_iter):
        post = e_step(alpha, beta)
        frozen = post

        def loss(x: FloatArray, post: FloatArray = frozen) -> float:
            return -q_value(x[:n_workers], x[n_workers:], post)

        def jac(x: FloatArray, post: FloatArray = frozen) -> FloatArray:
            result: FloatArray = -gradient(x[:n_workers], x[n_workers:], post)
            return result

        found = minimize(
            loss,
            np.concatenate([alpha, beta]),
            method="CG",
            jac=jac,
            tol=m_step_tol,
            options={"disp": False, "maxiter": m_step_max_iter},
        )
        alpha, beta = found.x[:n_workers], found.x[n_workers:]
        value = q_value(alpha, beta, post) / answers
        if value - last < tol:
            break
        last = value
    # crowd-kit's labels are those of the last E-step (before the final M-step).
    return post

"""Fair checks (issue 9): the sequential test's error rates, measured by simulating workers
through the bot's own rule (bench/bench_quality.py has the full 10,000 per kind), and the
fast-answer and same-button rules' false positives measured the same way."""

from __future__ import annotations

from bench.quality_rules import fast_rule_row, same_rule_row, suspension_row

# Fewer workers than the bench's 10,000 to stay fast; 4,000 still make the bounds meaningful:
# at the measured 0.07%, about 3 of 4,000 careful workers are stopped against a bound of 8.
WORKERS = 4_000


def test_the_test_spares_careful_workers_and_stops_random_clickers_soon() -> None:
    row = suspension_row(3, workers=WORKERS, seed=91)
    # 200 gold answers each, training included (training feeds the same test).
    assert row.stopped[0.9] <= 0.002
    assert row.stopped[0.95] <= row.stopped[0.9]
    assert row.stopped[0.8] <= 0.10
    assert row.stopped[0.7] >= 0.3  # not a rule that never stops anyone
    assert row.random_never == 0
    assert row.random_median <= 10 and row.random_p95 <= 20
    # A worker who turns into a random clicker at gold 50 is stopped soon after.
    assert row.turned_never == 0 and row.turned_median <= 15 and row.turned_p95 <= 30


def test_the_bounds_hold_for_other_option_counts_too() -> None:
    for options in (2, 4, 5):
        row = suspension_row(options, workers=1_000, seed=92, accuracies=(0.9, 0.8))
        assert row.stopped[0.9] <= 0.004, options
        assert row.stopped[0.8] <= 0.10, options
        assert row.random_never <= 0.001, options


def test_the_fast_and_same_button_rules_rarely_stop_honest_workers() -> None:
    # A worker at the pack's pace: (almost) never; even one twice as fast as most: rarely.
    assert fast_rule_row(1.0, 0.5, 2_000, 200, seed=3) == 0
    assert fast_rule_row(0.6, 0.5, 2_000, 200, seed=3) <= 0.002
    # Balanced labels or skewed ones: the streak limit follows the pack's label shares.
    for top, options in ((1 / 3, 3), (0.5, 2), (0.8, 3)):
        assert same_rule_row(top, options, 2_000, 200, seed=4) <= 0.001

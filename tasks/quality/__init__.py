"""Quality control: gold questions, training, trust, suspensions, disputes, trust-weighted
results with dynamic overlap (docs/quality.md says it in plain words).

    rules.py        the rules as pure functions: the sequential test, gold rate, voting, overlap
    standing.py     Standing: a worker's standing on a pack and every change of it
    dawid_skene.py  majority vote and Dawid-Skene for exports and benchmarks
    news.py         what a worker is told after an answer (Feedback) or a decision (Decision)
    pack_stats.py   each pack's quality settings and gold statistics, cached
    task_pick.py    which task a worker gets next: training, gold or not, retraining, fresh first
    judging.py      after an answer: the gold verdict, speed and same-button streaks
    results.py      a task's trust-weighted result and overlap; gold items under review
    control.py      QualityControl: what the worker loop calls, inside its units of work
    disputes.py     DisputeService: workers dispute a missed gold answer, operators decide
    service.py      QualityService: a worker's scores (/score), the quality outbox
"""

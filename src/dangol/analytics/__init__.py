"""Framework-free analytics: summaries, RFM, buy-till-you-die models, cadence, churn.

This package imports neither Django nor any other dangol package (import-linter checks it).

Modules:
- ``summary``: ``read_cdnow``, ``read_transactions_csv``, ``summarize`` (x, t_x, T, spend, holdout)
- ``rfm``: ``rfm_scores`` and the segment rule table (Korean and English labels)
- ``betageo``: ``BetaGeoModel`` (BG/NBD), ``ModifiedBetaGeoModel`` (MBG/NBD)
- ``pareto_nbd``: ``ParetoNBDModel``; ``gamma_gamma``: ``GammaGammaModel``
- ``clv``: ``customer_lifetime_value`` (12 months, 1 %/month by default)
- ``cadence``: ``cadence`` (typical gap, weekday/hour habit, overdue ratio, broken habits)
- ``features`` / ``churn``: ``customer_features``, ``ChurnModel`` (backtested, calibrated)
- ``reasons``: ``explain`` (plain-language reasons and actions for at-risk customers)
- ``report``: ``analyze`` (everything above as one JSON-ready dict, for ``dangol analyze``)
- ``simulate``: vectorised draws from the models (tests, demos, benchmarks)
"""

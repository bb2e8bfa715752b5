"""Framework-free analytics: summaries, RFM, buy-till-you-die models, cadence, churn.

This package imports neither Django nor any other dangol package (import-linter checks it).
"""

"""The evaluators' side: dashboard, rubric grading, jury decisions and the capitalisation ledger."""

"""Certification referentials, plugins and the rules that turn verdicts into decisions."""

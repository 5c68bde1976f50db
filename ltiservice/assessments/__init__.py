"""Assessments placed in courses, learners' submissions and their files."""

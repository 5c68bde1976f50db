"""Certifier exports: decisions and capitalisation (CSV/JSON), CDC accrochage XML, jury minutes.

Every export is scoped to ONE organisation; `ltiservice.exports.cli` is the command line.
"""

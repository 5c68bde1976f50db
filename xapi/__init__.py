"""xAPI for ltiservice: vocabulary, pure statement builders, the published profile, LRS client.

This package imports nothing from ``ltiservice``: the service maps its rows to the small frozen
inputs of ``xapi.model`` and hands the built statements to its outbox.
"""

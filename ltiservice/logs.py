"""Structured (JSON lines) logging. Messages never carry tokens, claims, keys or names."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure(level: str) -> None:
    """Send the service's logs to stderr as JSON lines, once."""
    logger = logging.getLogger("ltiservice")
    logger.setLevel(level.upper())
    if not any(getattr(h, "_ltiservice", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        handler._ltiservice = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.propagate = True

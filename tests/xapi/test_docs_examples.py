"""docs/xapi.md shows what the builders really produce: each example is rebuilt and compared."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.xapi.samples import all_statements
from xapi.profile import check_statement

DOC = Path(__file__).resolve().parents[2] / "docs" / "xapi.md"


def test_every_example_of_the_doc_is_a_built_statement() -> None:
    text = DOC.read_text(encoding="utf-8")
    examples = [json.loads(body) for body in re.findall(r"```json\n(.*?)\n```", text, re.S)]
    built = list(all_statements().values())
    assert len(examples) == len(built)
    for example in examples:
        assert example in built, example["verb"]["id"]
        assert check_statement(example) == []

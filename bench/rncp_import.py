"""Benchmark: find the last fiche of a large zipped RNCP export, streaming from the zip.

Generates (in a temp dir) a synthetic export made of the 12 real fiches of
tests/grading/data/rncp-export-extract-12-fiches.xml repeated with new numbers (~60 kB per fiche,
so 10,000 fiches ≈ the real ~570 MB daily file), zips it, then runs `find_fiche` for the LAST
fiche in a child process and prints elapsed seconds, MB/s (uncompressed XML) and the child's peak
RSS. Memory must stay flat (tens of MB) whatever ``--fiches``. A benchmark, not a test:

    .venv/bin/python bench/rncp_import.py --fiches 10000
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from lxml import etree

from ltiservice.grading.rncp import find_fiche

EXTRACT = Path(__file__).parents[1] / "tests/grading/data/rncp-export-extract-12-fiches.xml"
HEAD = b'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n<FICHES>\n'
HEAD += b"  <VERSION_FLUX>4.1</VERSION_FLUX>\n"


def _templates() -> list[tuple[bytes, bytes]]:
    """(numero, fiche bytes) of the real extract."""
    out = []
    for _, fiche in etree.iterparse(str(EXTRACT), tag="FICHE"):
        out.append((fiche.findtext("NUMERO_FICHE").encode(), etree.tostring(fiche)))
    return out


def numero(index: int) -> str:
    return f"RNCP{900000 + index}"


def generate(path: Path, fiches: int) -> int:
    """Write the zipped export, streaming; return the uncompressed size in bytes."""
    templates = _templates()
    size = 0
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        with archive.open("export_fiches_RNCP_V4_1.xml", "w", force_zip64=True) as member:
            for chunk in _document(templates, fiches):
                member.write(chunk)
                size += len(chunk)
    return size


def _document(templates: list[tuple[bytes, bytes]], fiches: int):  # type: ignore[no-untyped-def]
    yield HEAD
    for index in range(fiches):
        old, body = templates[index % len(templates)]
        yield body.replace(old, numero(index).encode()) + b"\n"
    yield b"</FICHES>\n"


def _find(source: str, wanted: str) -> None:
    """Child process: time find_fiche and report peak RSS as JSON on stdout."""
    start = time.perf_counter()
    fiche = find_fiche(source, wanted)
    elapsed = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux
    print(json.dumps({"numero": fiche.numero, "elapsed": elapsed, "peak_kb": peak_kb}))


def _measure(source: Path, wanted: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--find", str(source), wanted],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fiches", type=int, default=10_000)
    parser.add_argument("--find", nargs=2, metavar=("SOURCE", "NUMERO"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.find:
        _find(*args.find)
        return
    baseline = _measure(EXTRACT, "RNCP39568")  # interpreter + lxml on a 0.7 MB file
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "export.zip"
        start = time.perf_counter()
        size = generate(archive, args.fiches)
        generated = time.perf_counter() - start
        last = numero(args.fiches - 1)
        result = _measure(archive, last)
        assert result["numero"] == last
        mb = size / 1e6
        print(f"fiches            {args.fiches}")
        print(f"xml (uncompressed) {mb:,.0f} MB; zip {archive.stat().st_size / 1e6:,.0f} MB")
        print(f"generation        {generated:.1f} s")
        print(f"find last fiche   {result['elapsed']:.1f} s, {mb / result['elapsed']:.0f} MB/s")
        print(f"peak RSS          {result['peak_kb'] / 1024:.0f} MB")
        print(f"baseline RSS      {baseline['peak_kb'] / 1024:.0f} MB (same search, 12-fiche file)")


if __name__ == "__main__":
    main()

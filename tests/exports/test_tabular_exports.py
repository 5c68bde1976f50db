"""`ltiservice export decisions|ledger`: exact rows, isolation, corrections, bad input."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

ALPHA = "https://lms.alpha.example"
SCOPE = ["--organisation", "of-alpha", "--certification", "CRCA"]
JUNE = ["--from", "2025-06-01", "--to", "2025-06-30"]


def read_csv(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM for Excel"
    assert b"\r\n" in raw
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))


def test_decisions_csv_has_one_row_per_standing_decision(export, cohort, tmp_path):
    out = tmp_path / "decisions.csv"
    result = export("decisions", *SCOPE, *JUNE, "--format", "csv", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "3 décision(s) écrite(s)" in result.stdout
    assert "Export décisions" in result.stderr  # the progress bar, on stderr
    rows = read_csv(out)
    camille_b1, anon, camille_b2a = rows
    assert list(camille_b1) == [
        "Organisme", "Certification", "Code RNCP", "Version du référentiel", "Bloc",
        "Code RNCP du bloc", "N° d'apprenant", "Plateforme", "Identifiant sur la plateforme",
        "N° d'évaluation", "N° de travail remis", "Tentative", "Remis le", "N° de décision",
        "Décision du", "Décision", "Compétences acquises", "Compétences évaluées", "Note",
        "Note maximale", "Composition du comité", "Corrige la décision n°",
        "Motif de la correction", "Code de la décision", "Codes des rôles",
    ]  # fmt: skip
    decision = cohort["camille_b1"]
    assert camille_b1 == {
        "Organisme": "of-alpha",
        "Certification": "CRCA",
        "Code RNCP": "RNCP41351",
        "Version du référentiel": "RNCP41351",
        "Bloc": "B1",
        "Code RNCP du bloc": "",
        "N° d'apprenant": str(decision.person_id),
        "Plateforme": ALPHA,
        "Identifiant sur la plateforme": "learner-1",
        "N° d'évaluation": str(cohort["b1"]),
        "N° de travail remis": str(decision.submission_id),
        "Tentative": "1",
        "Remis le": "01/06/2025 12:00",  # 10:00 UTC is noon in Paris (summer time)
        "N° de décision": str(decision.id),
        "Décision du": "10/06/2025 12:00",
        "Décision": "Acquis",
        "Compétences acquises": "11",
        "Compétences évaluées": "11",
        "Note": "20",
        "Note maximale": "20",
        "Composition du comité": camille_b1["Composition du comité"],
        "Corrige la décision n°": "",
        "Motif de la correction": "",
        "Code de la décision": "acquis",
        "Codes des rôles": "hierarchy, other_service",
    }
    # The roles read as the referential words them, not as codes.
    roles = camille_b1["Composition du comité"]
    assert "hierarchy" not in roles and "other_service" not in roles and ", " in roles
    # The correction replaces the first decision; its text cannot run as an Excel formula.
    assert anon["N° de décision"] == str(cohort["anon_fixed"].id)
    assert anon["Corrige la décision n°"] == str(cohort["anon_first"].id)
    assert anon["Motif de la correction"] == "'=erreur de saisie"
    assert (anon["Identifiant sur la plateforme"], anon["Décision"]) == ("learner-2", "Acquis")
    assert (camille_b2a["Bloc"], camille_b2a["Compétences acquises"]) == ("B2A", "4")
    # Pseudonymous by default: no name or email anywhere in the file.
    text = out.read_text(encoding="utf-8-sig")
    assert "Camille" not in text and "camille@" not in text


def test_decisions_json_all_versions_and_names(export, cohort, tmp_path):
    out = tmp_path / "decisions.json"
    result = export(
        "decisions", *SCOPE, *JUNE, "--format", "json", "--out", str(out),
        "--all-versions", "--with-names",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = json.loads(out.read_text(encoding="utf-8"))
    by_id = {row["decision_id"]: row for row in rows}
    first, fixed = cohort["anon_first"], cohort["anon_fixed"]
    assert set(by_id) == {cohort["camille_b1"].id, first.id, fixed.id, cohort["camille_b2a"].id}
    assert by_id[first.id]["superseded_by"] == fixed.id
    assert by_id[first.id]["decision"] == "non_acquis"
    assert by_id[first.id]["competencies_acquired"] == 6
    assert by_id[first.id]["score_given"] == pytest.approx(20 * 6 / 11)
    assert by_id[fixed.id]["superseded_by"] is None
    camille = by_id[cohort["camille_b1"].id]
    assert (camille["name"], camille["email"]) == ("Camille Dupont", "camille@alpha.example")
    assert camille["evaluator_roles"] == ["hierarchy", "other_service"]
    assert by_id[fixed.id]["name"] is None
    assert list(camille)[8:11] == ["lti_sub", "name", "email"]


def test_decisions_never_cross_organisations(export, cohort, tmp_path):
    out = tmp_path / "all.json"
    assert export("decisions", *SCOPE, "--format", "json", "--out", str(out)).exit_code == 0
    rows = json.loads(out.read_text(encoding="utf-8"))
    # Every alpha decision of any date (6 standing), none of beta's (same sub "learner-1").
    assert {r["organisation"] for r in rows} == {"of-alpha"}
    assert {r["platform_issuer"] for r in rows} == {ALPHA}
    assert len(rows) == 6
    out_beta = tmp_path / "beta.json"
    result = export(
        "decisions", "--organisation", "of-beta", "--certification", "RNCP41351",
        "--format", "json", "--out", str(out_beta), "--with-names",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    beta = json.loads(out_beta.read_text(encoding="utf-8"))
    assert [(r["organisation"], r["name"]) for r in beta] == [("of-beta", "Intrus Beta")]


def test_ledger_csv_lists_acquired_blocks_of_the_period(export, cohort, tmp_path):
    out = tmp_path / "ledger.csv"
    result = export("ledger", *SCOPE, "--from", "2025-06-12", "--to", "2025-07-31",
                    "--out", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = read_csv(out)
    assert [(r["Identifiant sur la plateforme"], r["Bloc"], r["Acquis le"][:10]) for r in rows] == [
        ("learner-2", "B1", "12/06/2025"),
        ("learner-1", "B2A", "20/06/2025"),
        ("learner-3", "B2B", "06/07/2025"),
        ("learner-3", "B1", "08/07/2025"),
    ]
    assert rows[0]["N° de décision"] == str(cohort["anon_fixed"].id)
    assert rows[0]["Codes des rôles"] == "hierarchy, other_service"
    assert "Nom" not in rows[0]


def test_period_bounds_are_paris_days(app, export, cohort, tmp_path):
    # 2025-06-10T22:30Z is already 2025-06-11 in Paris: it belongs to the 11th.
    from ltiservice import db
    from ltiservice.models import Decision

    with app.app_context():
        session = db.session()
        decision = session.get(Decision, cohort["camille_b1"].id)
        decision.decided_at = decision.decided_at.replace(hour=22, minute=30)
        session.commit()
    out = tmp_path / "d.json"
    day = ["--from", "2025-06-10", "--to", "2025-06-10"]
    assert export("decisions", *SCOPE, *day, "--format", "json", "--out", str(out)).exit_code == 0
    assert json.loads(out.read_text()) == []
    day = ["--from", "2025-06-11", "--to", "2025-06-11"]
    assert export("decisions", *SCOPE, *day, "--format", "json", "--out", str(out)).exit_code == 0
    assert [r["decision_id"] for r in json.loads(out.read_text())] == [cohort["camille_b1"].id]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--organisation", "nope", "--certification", "CRCA"], "Organisme de formation inconnu"),
        (["--organisation", "of-alpha", "--certification", "XYZ"], "Certification inconnue"),
        ([*SCOPE, "--from", "2025-13-01"], "Date invalide pour --from : « 2025-13-01 »"),
        ([*SCOPE, "--to", "30/06/2025"], "Date invalide pour --to"),
        ([*SCOPE, "--from", "2025-07-01", "--to", "2025-06-01"], "Période vide"),
    ],
)
def test_bad_input_fails_in_french_and_writes_nothing(export, cohort, tmp_path, args, message):
    folder = tmp_path / "out"
    folder.mkdir()
    result = export("decisions", *args, "--out", str(folder / "x.csv"))
    assert result.exit_code == 1
    assert result.stderr.startswith("Erreur : ")
    assert message in result.stderr
    assert list(folder.iterdir()) == []


def test_unwritable_path_fails_in_french(export, cohort, tmp_path):
    result = export("ledger", *SCOPE, "--out", str(tmp_path / "missing" / "x.csv"))
    assert result.exit_code == 1
    assert "le dossier" in result.stderr and "n'existe pas" in result.stderr
    result = export("ledger", *SCOPE, "--out", str(tmp_path))
    assert result.exit_code == 1 and "est un dossier" in result.stderr


def test_failure_midway_leaves_no_half_file(export, cohort, tmp_path, monkeypatch):
    from ltiservice.exports import records

    original = records.decision_records

    def broken(db: Any, scope: Any):
        yield from list(original(db, scope))[:1]
        raise RuntimeError("database went away")

    monkeypatch.setattr(records, "decision_records", broken)
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "d.csv"
    out.write_text("previous export\n")
    with pytest.raises(RuntimeError):
        export("decisions", *SCOPE, "--out", str(out))
    assert out.read_text() == "previous export\n"
    assert [p.name for p in folder.iterdir()] == ["d.csv"]

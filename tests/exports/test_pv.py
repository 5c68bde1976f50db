"""`ltiservice export pv`: the jury minutes PDF lists candidates, decisions and the jury."""

from __future__ import annotations

import re

from pypdf import PdfReader


def pdf_text(path) -> str:
    reader = PdfReader(str(path))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def test_minutes_list_candidates_decisions_and_jury(export, cohort, tmp_path):
    out = tmp_path / "pv.pdf"
    result = export("pv", "--organisation", "of-alpha", "--assessment", str(cohort["b1"]),
                    "--out", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Procès-verbal de 4 candidat(s)" in result.stdout
    reader = PdfReader(str(out))
    assert reader.metadata.title == "Procès-verbal du comité d'évaluation : Étude de cas bloc 1"
    assert reader.metadata.author == "Organisme of-alpha"
    text = pdf_text(out)
    assert "CQP Chargé(e) de relation clientèle assurance (RNCP41351)" in text
    assert "Promo 2025" in text and "du 01/06/2025 au 08/07/2025" in text
    # One line per standing decision, by name then pseudonymous key; names when known.
    rows = re.findall(
        r"(Camille Dupont|Dominique Martin|https://lms\.alpha\.example / learner-2) "
        r"(\d) (Acquis|Non acquis)( \(après correction\))? (\d+/\d+) (\d\d/\d\d/\d{4})",
        text,
    )
    assert rows == [
        ("Camille Dupont", "1", "Acquis", "", "11/11", "10/06/2025"),
        ("Dominique Martin", "1", "Non acquis", "", "3/11", "05/07/2025"),
        ("Dominique Martin", "2", "Acquis", "", "11/11", "08/07/2025"),
        ("https://lms.alpha.example / learner-2", "1", "Acquis", " (après correction)", "11/11",
         "12/06/2025"),
    ]  # fmt: skip
    assert "Émile Évaluateur" in text and "Berthe Jury" in text
    assert "Évaluateur appartenant à la hiérarchie du candidat" in text
    assert "Signature du président du jury" in text
    # Another organisation's candidate never appears.
    assert "Intrus" not in text


def test_minutes_of_another_organisations_assessment_are_refused(export, cohort, tmp_path):
    out = tmp_path / "pv.pdf"
    result = export("pv", "--organisation", "of-beta", "--assessment", str(cohort["b1"]),
                    "--out", str(out))  # fmt: skip
    assert result.exit_code == 1
    assert f"Évaluation {cohort['b1']} introuvable dans l'organisme « of-beta »" in result.stderr
    assert not out.exists()

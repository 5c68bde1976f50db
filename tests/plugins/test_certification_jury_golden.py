"""The certification juries as the documents compose them, checked by the core's rules."""

from __future__ import annotations

from functools import cache

from ltiservice.grading.interface import CertificationPlugin, JuryMember
from ltiservice.grading.loader import load_plugins


@cache
def _plugin(code: str) -> CertificationPlugin:
    return dict(load_plugins())[code]


def _codes(code: str, members: list[JuryMember], version: str | None = None) -> list[str]:
    plugin = _plugin(code)
    referential = plugin.referential(version)
    return [p.code for p in plugin.rules.certification_jury_problems(referential, members)]


def test_crca_jury_paritaire_is_parity_with_a_president() -> None:
    """FAQ CRCA: « d'un représentant par organisation syndicale de salariés représentative au
    niveau de la branche, d'autant de représentants des organisations d'employeurs que le nombre
    de représentants des organisations de salariés. d'un président, désigné en son sein, par le
    jury. »"""
    valid = [
        JuryMember("CFDT", "employees", president=True),
        JuryMember("CGT", "employees"),
        JuryMember("Employeur 1", "employers"),
        JuryMember("Employeur 2", "employers"),
    ]
    assert _codes("CRCA", valid) == []
    assert _codes("CRCA", valid, "RNCP36140") == []
    assert _codes("CRCA", valid[:3]) == ["parity"]
    assert _codes("CRCA", [m for m in valid if m.seat == "employees"]) == [
        "missing_seat",
        "parity",
    ]
    no_president = [JuryMember(m.name, m.seat) for m in valid]
    assert _codes("CRCA", no_president) == ["no_president"]


def test_crca_substitute_sits_only_in_the_titular_s_absence() -> None:
    """FAQ CRCA: « Le suppléant ne peut siéger au jury qu'en l'absence du titulaire qu'il
    remplace. »"""
    titular = JuryMember("CFDT titulaire", "employees", present=False)
    substitute = JuryMember(
        "CFDT suppléant", "employees", titular=False, substitute_for=titular.name
    )
    employer = JuryMember("Employeur", "employers", president=True)
    assert _codes("CRCA", [titular, substitute, employer]) == []
    present = JuryMember("CFDT titulaire", "employees")
    # The titular sits; the substitute does not, and is named as refused.
    assert _codes("CRCA", [present, substitute, employer]) == ["substitute_with_titular_present"]
    alone = JuryMember("Suppléant seul", "employees", titular=False)
    assert _codes("CRCA", [alone, employer]) == [
        "substitute_without_titular",
        "missing_seat",
        "parity",
    ]


def test_a_president_who_does_not_sit_is_refused() -> None:
    absent = JuryMember("Présidente absente", "employees", present=False, president=True)
    assert "president_not_sitting" in _codes(
        "CRCA", [absent, JuryMember("S", "employees"), JuryMember("E", "employers")]
    )


def test_mutualite_jury_de_delivrance_is_two_members() -> None:
    """Fiche RNCP39866: « Le jury de délivrance (jury d'évaluation finale) est composé de deux
    membres désignés par la CPNEFP en amont de chaque session d'évaluation : un représentant de
    l'organisation employeur et un représentant des organisations syndicales. »"""
    pair = [JuryMember("Employeur", "employers"), JuryMember("Syndicat", "employees")]
    assert _codes("MUTUALITE", pair) == []
    assert _codes("MUTUALITE", [*pair, JuryMember("Second syndicat", "employees")]) == [
        "too_many_seat"
    ]
    referential = _plugin("MUTUALITE").current
    assert referential.certification_jury.committee_acquires
    assert "secretariat" in referential.certification_jury.observers


def test_courtage_jury_is_five_five_two_one() -> None:
    """Fiche RNCP31395: « Jury constitué : 5 personnes issues des organisations syndicales, 5
    représentants de la CSCA, 2 experts formation pro assurance, 1 représentant de l'organisme de
    formation »."""
    full = (
        [JuryMember(f"Syndicat {i}", "unions") for i in range(5)]
        + [JuryMember(f"CSCA {i}", "csca") for i in range(5)]
        + [JuryMember(f"Expert {i}", "experts") for i in range(2)]
        + [JuryMember("OF", "training_organisation")]
    )
    assert _codes("COURTAGE", full) == []
    assert _codes("COURTAGE", full[1:]) == ["missing_seat"]
    assert _codes("COURTAGE", [*full, JuryMember("Intrus", "visitors")]) == ["unknown_seat"]
    jury = _plugin("COURTAGE").current.certification_jury
    assert not jury.committee_acquires and "vae" in jury.routes


def test_only_the_crca_jury_paritaire_acquires_crca_blocks() -> None:
    """FAQ CRCA: « Le dossier du candidat est étudié par le jury paritaire qui se prononce sur
    l'obtention du CQP. »"""
    for version in ("RNCP36140", "RNCP41351"):
        jury = _plugin("CRCA").referential(version).certification_jury
        assert (jury.body, jury.committee_acquires) == ("jury_paritaire", False)
        assert jury.outcomes == (
            "validation_totale",
            "validation_partielle",
            "absence_de_validation",
        )

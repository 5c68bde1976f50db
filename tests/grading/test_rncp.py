"""The RNCP export reader: real extract, fictional sample, zip, hostile XML, competency split."""

from __future__ import annotations

import re
import zipfile
from datetime import date
from pathlib import Path

import pytest

from ltiservice.grading.rncp import (
    RncpImportError,
    find_fiche,
    iter_fiches,
    split_competencies,
)

DATA = Path(__file__).parent / "data"
EXTRACT = DATA / "rncp-export-extract-12-fiches.xml"
FICTIONAL = DATA / "rncp-export-sample-fictional.xml"

# numero -> (own blocks, correspondances, DATE_FIN_ENREGISTREMENT, niveau, actif); counted by hand
# in the extract. The fiches with CORRESPONDANCES hold many more BLOC_COMPETENCES elements
# (e.g. RNCP36490: 4 own blocks, 50 BLOC_COMPETENCES in all) that must not be counted.
EXPECTED = {
    "RNCP34762": (5, 0, date(2024, 8, 31), 7, False),
    "RNCP35809": (4, 0, date(2026, 8, 31), 5, True),
    "RNCP35625": (10, 0, date(2026, 3, 25), 7, False),
    "RNCP35419": (4, 0, date(2026, 3, 17), 7, False),
    "RNCP37488": (2, 0, date(2028, 8, 31), 4, True),
    "RNCP40344": (4, 8, date(2028, 3, 28), 4, True),
    "RNCP36612": (4, 0, date(2027, 7, 1), 5, True),
    "RNCP37674": (2, 3, date(2028, 9, 1), 5, True),
    "RNCP36490": (4, 20, date(2027, 6, 1), 6, True),
    "RNCP35959": (5, 14, date(2026, 10, 15), 5, True),
    "RNCP37873": (3, 2, date(2028, 12, 18), 6, True),
    "RNCP39568": (6, 0, date(2029, 8, 31), 7, True),
}


def _zip(source: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.write(source, arcname="export_fiches_RNCP_V4_1.xml")
    return target


def _write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "export.xml"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def _fiche_xml(intitule: str) -> str:
    return (
        "<FICHES><VERSION_FLUX>4.1</VERSION_FLUX><FICHE><NUMERO_FICHE>RNCP1</NUMERO_FICHE>"
        f"<INTITULE>{intitule}</INTITULE></FICHE></FICHES>"
    )


# --- the real extract ----------------------------------------------------------------------


def test_iter_fiches_reads_the_twelve_real_fiches_in_order() -> None:
    fiches = list(iter_fiches(EXTRACT))
    assert [f.numero for f in fiches] == list(EXPECTED)


@pytest.mark.parametrize("numero", list(EXPECTED))
def test_each_real_fiche_is_found_with_its_own_blocks_dates_and_correspondances(
    numero: str,
) -> None:
    blocks, correspondances, end_date, level, active = EXPECTED[numero]
    fiche = find_fiche(EXTRACT, numero)
    assert fiche.numero == numero
    assert len(fiche.blocs) == blocks
    assert len(fiche.correspondances) == correspondances
    assert fiche.date_fin_enregistrement == end_date
    assert fiche.niveau == level
    assert fiche.actif is active
    assert [b.code for b in fiche.blocs] == [f"{numero}BC{i:02d}" for i in range(1, blocks + 1)]


def test_real_fiche_fields_are_read_by_name_whatever_their_order() -> None:
    fiche = find_fiche(EXTRACT, "rncp36490")  # case-insensitive lookup
    assert fiche.intitule == "Concepteur développeur d'applications"
    assert fiche.certificateurs == ("CESI",)
    first = fiche.blocs[0]
    assert first.libelle == "Concevoir les solutions logicielles"
    assert first.liste_competences_raw.startswith("1.1 Recueillir, le besoin du client")
    assert first.modalites_evaluation.startswith("Projet de conception d’application")  # noqa: RUF001


def test_bare_number_means_an_rncp_fiche() -> None:
    assert find_fiche(EXTRACT, " 37488 ").numero == "RNCP37488"


def test_real_correspondances_give_source_and_destination_block_codes() -> None:
    fiche = find_fiche(EXTRACT, "RNCP37873")
    by_source = {c.source_blocks: c for c in fiche.correspondances}
    two_blocks = by_source[("RNCP37873BC02",)]
    assert two_blocks.destination_fiche == "RNCP31678"
    assert two_blocks.destination_blocks == ("RNCP31678BC02", "RNCP31678BC03")
    assert by_source[("RNCP37873BC01",)].destination_blocks == ("RNCP31678BC01",)


def test_correspondance_without_blocks_is_kept_with_empty_codes() -> None:
    fiche = find_fiche(EXTRACT, "RNCP37674")
    whole_fiche = [c for c in fiche.correspondances if not c.source_blocks]
    assert len(whole_fiche) == 1
    assert whole_fiche[0].destination_fiche == "RNCP31114"
    assert whole_fiche[0].destination_blocks == ()


def test_progress_reports_bytes_up_to_the_file_size() -> None:
    calls: list[tuple[int, int]] = []
    find_fiche(EXTRACT, "RNCP39568", progress=lambda done, total: calls.append((done, total)))
    size = EXTRACT.stat().st_size
    assert len(calls) > 5  # the 722 kB file is read in chunks, not at once
    assert all(total == size for _, total in calls)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert calls[-1] == (size, size)


# --- fictional sample, zip -----------------------------------------------------------------


def test_fictional_sample_reads_cdata_two_blocks_and_its_correspondance() -> None:
    fiche = find_fiche(FICTIONAL, "RNCP99999")
    assert fiche.intitule == "CQP Exemple fictif de chargé(e) de relation clientèle"
    assert fiche.certificateurs == ("BRANCHE FICTIVE",)
    assert fiche.niveau == 5
    assert fiche.date_fin_enregistrement == date(2028, 9, 24)
    assert [(b.code, b.libelle) for b in fiche.blocs] == [
        ("RNCP99999BC01", "Analyser le besoin du client (fictif)"),
        ("RNCP99999BC02", "Traiter une demande d'indemnisation (fictif)"),
    ]
    assert fiche.blocs[1].modalites_evaluation == "Étude de cas écrite"
    (corr,) = fiche.correspondances
    assert corr.source_blocks == ("RNCP99999BC01",)
    assert corr.destination_fiche == "RNCP99998"
    assert corr.destination_blocks == ("RNCP99998BC01",)


def test_zipped_export_is_read_from_the_member_without_extraction(tmp_path: Path) -> None:
    archive = _zip(EXTRACT, tmp_path / "export.zip")
    calls: list[tuple[int, int]] = []
    fiche = find_fiche(archive, "RNCP35959", progress=lambda d, t: calls.append((d, t)))
    assert len(fiche.blocs) == 5
    # Counted on the uncompressed member; the search stops at fiche 10 of 12, before the end.
    size = EXTRACT.stat().st_size
    assert {total for _, total in calls} == {size}
    assert 0 < calls[-1][0] < size
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.zip"]


def test_zip_without_exactly_one_xml_member_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a.xml", _fiche_xml("A"))
        zf.writestr("b.xml", _fiche_xml("B"))
    with pytest.raises(RncpImportError, match="exactement un fichier XML"):
        find_fiche(archive, "RNCP1")


def test_empty_elements_give_empty_values(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "<FICHES><FICHE><NUMERO_FICHE>RNCP2</NUMERO_FICHE><INTITULE/><ACTIF></ACTIF>"
        "<DATE_FIN_ENREGISTREMENT/><BLOCS_COMPETENCES><BLOC_COMPETENCES><LIBELLE>L</LIBELLE>"
        "<CODE>RNCP2BC01</CODE><LISTE_COMPETENCES/></BLOC_COMPETENCES></BLOCS_COMPETENCES>"
        "</FICHE></FICHES>",
    )
    fiche = find_fiche(path, "RNCP2")
    assert (fiche.intitule, fiche.actif, fiche.date_fin_enregistrement, fiche.niveau) == (
        "",
        None,
        None,
        None,
    )
    assert fiche.blocs[0].code == "RNCP2BC01"
    assert fiche.blocs[0].liste_competences_raw == ""
    assert fiche.blocs[0].modalites_evaluation == ""


# --- errors --------------------------------------------------------------------------------


def test_missing_fiche_is_a_clear_error() -> None:
    with pytest.raises(RncpImportError, match="La fiche RNCP00001 est absente"):
        find_fiche(EXTRACT, "RNCP00001")


def test_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RncpImportError, match="Impossible de lire"):
        find_fiche(tmp_path / "absent.xml", "RNCP1")


def test_malformed_xml_is_a_clear_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "<FICHES><FICHE><NUMERO_FICHE>RNCP1</FICHE>")
    with pytest.raises(RncpImportError, match="XML mal formé"):
        find_fiche(path, "RNCP1")


def test_bad_date_names_the_fiche_and_field(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "<FICHES><FICHE><NUMERO_FICHE>RNCP3</NUMERO_FICHE>"
        "<DATE_FIN_ENREGISTREMENT>2028-09-24</DATE_FIN_ENREGISTREMENT></FICHE></FICHES>",
    )
    with pytest.raises(RncpImportError, match=r"RNCP3 : DATE_FIN_ENREGISTREMENT"):
        find_fiche(path, "RNCP3")


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE FICHES [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
""" + _fiche_xml("&lol9;")


def test_billion_laughs_is_refused_before_any_expansion(tmp_path: Path) -> None:
    path = _write(tmp_path, BILLION_LAUGHS)
    with pytest.raises(RncpImportError, match="déclare des entités XML") as info:
        find_fiche(path, "RNCP1")
    assert "lol" not in str(info.value)


def test_entity_declaration_after_a_comment_holding_a_tag_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "<!-- <FICHES> -->\n" + BILLION_LAUGHS.split("\n", 1)[1])
    with pytest.raises(RncpImportError, match="déclare des entités XML"):
        find_fiche(path, "RNCP1")


def test_external_entity_is_refused_and_the_local_file_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("contenu-secret-4242")
    path = _write(
        tmp_path,
        f'<?xml version="1.0"?>\n<!DOCTYPE FICHES [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
        + _fiche_xml("&xxe;"),
    )
    with pytest.raises(RncpImportError, match="déclare des entités XML") as info:
        list(iter_fiches(path))
    assert "contenu-secret-4242" not in str(info.value)


def test_utf16_entity_declaration_is_refused_by_the_second_guard(tmp_path: Path) -> None:
    # The byte-level prolog check cannot read UTF-16; the DTD check on the parsed tree must.
    secret = tmp_path / "secret.txt"
    secret.write_text("contenu-secret-4242")
    text = (
        f'<?xml version="1.0" encoding="UTF-16"?>\n'
        f'<!DOCTYPE FICHES [<!ENTITY xxe SYSTEM "file://{secret}">]>\n' + _fiche_xml("&xxe;")
    )
    path = _write(tmp_path, text.encode("utf-16"))
    with pytest.raises(RncpImportError, match="entités XML") as info:
        list(iter_fiches(path))
    assert "contenu-secret-4242" not in str(info.value)


def test_huge_text_node_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, _fiche_xml("a" * 11_000_000))
    with pytest.raises(RncpImportError, match="nœud texte dépasse la taille maximale"):
        find_fiche(path, "RNCP1")


def test_plain_doctype_without_entities_is_accepted(tmp_path: Path) -> None:
    path = _write(tmp_path, "<!DOCTYPE FICHES>\n" + _fiche_xml("Titre"))
    assert find_fiche(path, "RNCP1").intitule == "Titre"


# --- split_competencies --------------------------------------------------------------------


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text))


def test_split_on_dash_bullets_joins_mid_sentence_line_breaks() -> None:
    raw = (
        "- Valider une solution   technique  - Renseigner la maquette numérique du projet  "
        "- Produire des représentations   d’aménagement ou de finition  -"  # noqa: RUF001
    )
    assert split_competencies(raw) == [
        "Valider une solution technique",
        "Renseigner la maquette numérique du projet",
        "Produire des représentations d’aménagement ou de finition",  # noqa: RUF001
    ]


def test_split_keeps_numbering_codes() -> None:
    raw = "A1C1. Evaluer les contextes        A1C2.Apprécier les incidences    C1 - Recueillir"
    assert split_competencies(raw) == [
        "A1C1. Evaluer les contextes",
        "A1C2.Apprécier les incidences",
        "C1 - Recueillir",
    ]


def test_split_on_star_and_round_bullets() -> None:
    assert split_competencies("* Coder          * Maintenir un réseau") == [
        "Coder",
        "Maintenir un réseau",
    ]
    assert split_competencies("• Accueillir • Orienter le client") == [
        "Accueillir",
        "Orienter le client",
    ]


def test_split_on_html_fragments_and_entities() -> None:
    raw = "<ul><li>Accueillir le client</li><li>Qualifier la demande, &eacute;valuer</li></ul>"
    assert split_competencies(raw) == ["Accueillir le client", "Qualifier la demande, évaluer"]
    assert split_competencies("<p>Un</p><p>Deux<br/>trois</p>") == ["Un", "Deux trois"]


def test_split_on_real_line_breaks() -> None:
    assert split_competencies("Accueillir\nOrienter\r\nConseiller") == [
        "Accueillir",
        "Orienter",
        "Conseiller",
    ]


def test_split_of_every_real_block_loses_no_word() -> None:
    blocks = [b for fiche in iter_fiches(EXTRACT) for b in fiche.blocs]
    assert len(blocks) == 53
    for block in blocks:
        proposal = split_competencies(block.liste_competences_raw)
        assert proposal, block.code
        assert _words(block.liste_competences_raw) <= _words(" ".join(proposal)), block.code


def test_split_of_real_block_gives_one_item_per_competency() -> None:
    fiche = find_fiche(EXTRACT, "RNCP37674")
    assert split_competencies(fiche.blocs[1].liste_competences_raw) == [
        "Mettre en place une base de données relationnelle",
        "Développer des composants d'accès aux données SQL et NoSQL",
        "Développer des composants métier coté serveur",
        "Documenter le déploiement d'une application dynamique web ou web mobile",
    ]


# --- loading an official correspondence as equivalences ----------------------------------------


def test_correspondances_become_sourced_equivalences_the_schema_accepts() -> None:
    from ltiservice.grading.rncp import equivalences_from_correspondances

    fiche = find_fiche(EXTRACT, "RNCP37873")
    older = {"RNCP31678BC01": "OLD1", "RNCP31678BC02": "OLD2", "RNCP31678BC03": "OLD3"}
    current = {"RNCP37873BC01": "B1", "RNCP37873BC02": "B2"}

    entries = equivalences_from_correspondances(fiche, older, current, "RNCP31678")

    by_block = {e["from_block"]: e for e in entries}
    assert by_block["OLD1"]["to_blocks"] == ["B1"]
    assert by_block["OLD2"]["to_blocks"] == by_block["OLD3"]["to_blocks"] == ["B2"]
    assert by_block["OLD2"]["source"] == {
        "document": "Export RNCP, fiche RNCP37873, CORRESPONDANCES",
        "quote": "RNCP37873BC02 -> RNCP31678 RNCP31678BC02 RNCP31678BC03",
    }
    # Blocks the plugin does not know are not guessed.
    assert equivalences_from_correspondances(fiche, {}, current, "RNCP31678") == []
    assert equivalences_from_correspondances(fiche, older, current, "RNCP00000") == []


def test_the_last_delivery_date_is_read_when_the_fiche_gives_one() -> None:
    # RNCP40344 is the one fiche of the extract with DATE_LIMITE_DELIVRANCE (28/03/2032).
    assert find_fiche(EXTRACT, "RNCP40344").date_limite_delivrance == date(2032, 3, 28)
    assert find_fiche(EXTRACT, "RNCP36490").date_limite_delivrance is None

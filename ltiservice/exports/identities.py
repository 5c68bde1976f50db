"""The holders' civil status for the accrochage export, read from the organisation's CSV.

The service never stores these fields: they are read from the file given at export time,
checked, put in the XML and dropped. Error messages name the learner (pseudonymous key) and
the field, NEVER the value; nothing here logs.

The CSV (UTF-8, optional BOM, ``;`` or ``,`` separator) has one row per learner, keyed by
``issuer`` and ``sub`` (the ``platform_issuer`` and ``lti_sub`` columns of the decisions
export). Columns: see `COLUMNS` and docs/exports.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ltiservice.exports.scope import ExportError

KEY_COLUMNS = ("issuer", "sub")
#: Column -> (required, check). A check returns True when the (non-empty) value is acceptable.
MODALITES_ACCES = (
    "FORMATION_INITIALE_HORS_APPRENTISSAGE",
    "FORMATION_INITIALE_APPRENTISSAGE",
    "FORMATION_CONTINUE_HORS_CONTRAT_DE_PROFESSIONNALISATION",
    "FORMATION_CONTINUE_CONTRAT_DE_PROFESSIONNALISATION",
    "VAE",
    "EQUIVALENCE_DIPLOME_ETRANGER",
    "CANDIDAT_LIBRE",
)


def _text(limit: int) -> Callable[[str], bool]:
    return lambda value: len(value) <= limit


def _number(low: int, high: int) -> Callable[[str], bool]:
    return lambda value: value.isdigit() and low <= int(value) <= high


def _date(value: str) -> bool:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


COLUMNS: dict[str, tuple[bool, Callable[[str], bool], str]] = {
    "nom_naissance": (True, _text(60), "60 caractères au plus"),
    "nom_usage": (False, _text(60), "60 caractères au plus"),
    "prenom1": (True, _text(60), "60 caractères au plus"),
    "prenom2": (False, _text(60), "60 caractères au plus"),
    "prenom3": (False, _text(60), "60 caractères au plus"),
    "annee_naissance": (True, _number(1900, 2099), "année sur 4 chiffres, 1900 à 2099"),
    "mois_naissance": (False, _number(1, 12), "nombre de 1 à 12"),
    "jour_naissance": (False, _number(1, 31), "nombre de 1 à 31"),
    "sexe": (True, lambda v: v in {"M", "F"}, "M ou F"),
    "code_insee_naissance": (False, lambda v: len(v) == 5, "5 caractères"),
    "code_postal_naissance": (False, _text(9), "9 caractères au plus"),
    "libelle_commune_naissance": (False, _text(60), "60 caractères au plus"),
    "code_pays_naissance": (False, lambda v: len(v) == 3, "3 caractères"),
    "libelle_pays_naissance": (False, _text(60), "60 caractères au plus"),
    "modalite_acces": (False, lambda v: v in MODALITES_ACCES, "valeur de la liste CDC"),
    "date_inscription": (False, _date, "date AAAA-MM-JJ"),
}


@dataclass(frozen=True)
class Identity:
    """One holder's civil status: column name -> value, empty columns left out."""

    fields: dict[str, str]

    def get(self, name: str) -> str | None:
        return self.fields.get(name) or None


def person_key(issuer: str, sub: str) -> str:
    """The pseudonymous key messages name a learner by."""
    return f"{issuer} / {sub}"


def load_identities(path: Path) -> dict[tuple[str, str], Identity]:
    """Read the CSV; (issuer, sub) -> Identity. Structural problems raise `ExportError`."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ExportError(f"Fichier d'identités introuvable : {path}.") from None
    except UnicodeDecodeError:
        raise ExportError(f"Fichier d'identités {path} : encodage attendu UTF-8.") from None
    except OSError as exc:
        raise ExportError(f"Fichier d'identités {path} illisible : {exc.strerror}.") from None
    return parse_identities(text, str(path))


def parse_identities(text: str, path: str = "envoyé") -> dict[tuple[str, str], Identity]:
    """The CSV's text (e.g. a file sent from the browser, never stored); as `load_identities`."""
    text = text.removeprefix("\ufeff")
    header = text.split("\n", 1)[0]
    delimiter = ";" if header.count(";") >= header.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    columns = [c.strip() for c in reader.fieldnames or []]
    missing = [c for c in KEY_COLUMNS if c not in columns]
    if missing:
        raise ExportError(
            f"Fichier d'identités {path} : colonne(s) manquante(s) {', '.join(missing)}."
        )
    unknown = sorted(set(columns) - set(KEY_COLUMNS) - set(COLUMNS))
    if unknown:
        raise ExportError(
            f"Fichier d'identités {path} : colonne(s) inconnue(s) {', '.join(unknown)}."
        )
    identities: dict[tuple[str, str], Identity] = {}
    for line, row in enumerate(reader, start=2):
        clean = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        key = (clean.get("issuer", ""), clean.get("sub", ""))
        if not all(key):
            raise ExportError(f"Fichier d'identités, ligne {line} : issuer et sub sont requis.")
        if key in identities:
            raise ExportError(
                f"Fichier d'identités, ligne {line} : l'apprenant {person_key(*key)} "
                "y figure deux fois."
            )
        identities[key] = Identity({k: v for k, v in clean.items() if k in COLUMNS and v})
    return identities


def identity_problems(key: tuple[str, str], identity: Identity | None) -> list[str]:
    """What is missing or malformed for one learner, in French, without any value."""
    who = f"apprenant {person_key(*key)}"
    if identity is None:
        return [f"{who} : aucune ligne dans le fichier d'identités"]
    problems = []
    for name, (required, check, expected) in COLUMNS.items():
        value = identity.get(name)
        if value is None:
            if required:
                problems.append(f"{who} : champ « {name} » manquant")
        elif not check(value):
            problems.append(f"{who} : champ « {name} » invalide ({expected})")
    if not identity.get("code_insee_naissance") and not identity.get("code_postal_naissance"):
        problems.append(
            f"{who} : champ « code_insee_naissance » manquant "
            "(ou « code_postal_naissance » à défaut)"
        )
    return problems


def check_cohort(
    keys: Iterable[tuple[str, str]], identities: dict[tuple[str, str], Identity]
) -> None:
    """Every learner of the cohort has a complete identity, or one error listing them all."""
    problems = [p for key in keys for p in identity_problems(key, identities.get(key))]
    if problems:
        listed = "\n  - ".join(problems)
        raise ExportError(f"Identités incomplètes, rien n'a été écrit :\n  - {listed}")

"""After a decision: where the learner stands in the certification, block by block, and what next.

Pure: built from the decision's result, « mon parcours » (`path.build_path`) and the attempt
rights; the sentences are French and speak to the learner.
"""

from __future__ import annotations

from dataclasses import dataclass

from ltiservice.assessments.path import Path
from ltiservice.assessments.submissions import AttemptRights


@dataclass(frozen=True)
class Standing:
    """Blocks held for good, blocks awaiting the jury, blocks still to acquire, what to do."""

    held: tuple[str, ...]
    awaiting_jury: tuple[str, ...]
    remaining: tuple[str, ...]
    steps: tuple[str, ...]


def build_next_steps(
    block_code: str, acquired: bool, picture: Path, rights: AttemptRights
) -> Standing:
    """What the learner holds, what remains and the next steps after this block's decision."""
    cells = [cell for row in picture.rows for cell in row.cells]
    held = tuple(f"{c.code} — {c.title}" for c in cells if c.acquired)
    awaiting = tuple(f"{c.code} — {c.title}" for c in cells if c.proposed and not c.acquired)
    remaining = tuple(
        f"{c.code} — {c.title}" for c in cells if not (c.acquired or c.proposed or c.not_chosen)
    )
    steps: list[str] = []
    if not acquired:
        if rights.allowed:
            left = rights.remaining
            steps.append(
                f"Vous pouvez remettre un nouveau travail pour le bloc {block_code} "
                f"({left} tentative{'s' if left > 1 else ''} restante{'s' if left > 1 else ''}) : "
                "lisez les remarques des évaluateurs ci-dessus, puis ouvrez une nouvelle tentative "
                "depuis la page de l'évaluation."
            )
        else:
            why = (rights.reason or "").rstrip(".")
            steps.append(
                f"Une nouvelle tentative n'est pas possible ici ({why}) : demandez à votre "
                "formateur ou formatrice comment repasser ce bloc."
            )
    elif block_code not in {c.code for c in cells if c.acquired}:
        steps.append(
            f"Le comité d'évaluation propose le bloc {block_code} comme acquis : il le sera "
            "définitivement quand le jury de certification l'aura validé."
        )
    if picture.certified:
        steps.append("Votre certification est obtenue.")
    elif picture.to_present:
        steps.append(
            "Les conditions de la certification sont réunies : votre organisme de formation "
            "vous présentera au jury de certification."
        )
    elif remaining:
        steps.append(
            "Pour la certification, il vous reste d'autres blocs à acquérir (voir « Mon "
            "parcours ») ; votre formateur ou formatrice vous dira quand ils sont proposés."
        )
    return Standing(held, awaiting, remaining, tuple(steps))

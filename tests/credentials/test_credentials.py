"""Open Badges 3.0 credentials of capitalised blocks, checked by code that is not ours.

The verifier is openbadgeslib's (``OB3Verifier``): JWT-VC signature with the key published in
our JWKS, OB 3.0 structure, validity window, and the revocation bit read from the status list
the running service serves (fetched over HTTP from 127.0.0.1; the status list's own signature
is verified and bound to the credential's issuer).
"""

from __future__ import annotations

import json
from typing import Any

import jwt
import pytest
import requests
from flask import Flask
from lxml import html
from openbadgeslib.ob3.verifier import OB3VerificationError, OB3Verifier
from sqlalchemy import select

from ltiservice import db
from ltiservice.credentials_cli import credentials_cli
from ltiservice.models import CertificationAward, IssuedCredential, LedgerEntry, Person
from ltiservice.statements import registration
from tests.conftest import LiveApp
from tests.evaluations.support import (
    criteria,
    errors_of,
    hand_in,
    launch,
    learner,
    paths,
    place,
    text_of,
    verdict_form,
)
from tests.support.lti_harness import LtiHarness
from tests.xapi_delivery.factories import (
    World,
    decide,
    jury_decides,
    jury_validates,
    make_world,
    sign,
    submit,
)
from xapi.vocabulary import Vocabulary


def _fetch(url: str) -> bytes:
    """The verifier's downloader: plain HTTP to the service on 127.0.0.1 (its default only
    speaks HTTPS to the internet)."""
    assert url.startswith("http://127.0.0.1:"), url
    response = requests.get(url, timeout=10)
    response.raise_for_status()
    return response.content


def _verifier(base_url: str, token: str) -> OB3Verifier:
    """openbadgeslib's verifier over the public key our JWKS publishes for this token."""
    keys = requests.get(f"{base_url}/lti/jwks", timeout=10).json()["keys"]
    embedded = jwt.get_unverified_header(token)["jwk"]
    (published,) = [k for k in keys if (k["n"], k["e"]) == (embedded["n"], embedded["e"])]
    public = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(published))
    return OB3Verifier(public)


def _acquire(app: Flask, world: World, block: str) -> int:
    with app.app_context(), db.transaction() as session:
        hierarchy, other = world.evaluator_ids
        submission = submit(session, world, block)
        sign(session, submission, hierarchy, "hierarchy", "met")
        sign(session, submission, other, "other_service", "met")
        decision = decide(session, submission, "met", hierarchy)
        version = submission.assessment.referential_version
        jury_validates(session, world, (block,), "auto", hierarchy, version)
        entry = session.scalar(select(LedgerEntry).where(LedgerEntry.decision_id == decision.id))
        assert entry is not None
        issued = session.scalar(
            select(IssuedCredential).where(IssuedCredential.ledger_entry_id == entry.id)
        )
        assert issued is not None
        return issued.id


def _cli(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(credentials_cli, list(args))


def _token(app: Flask, credential_id: int) -> str:
    with app.app_context():
        issued = db.session().get(IssuedCredential, credential_id)
        assert issued is not None
        return issued.token


def test_a_capitalised_block_gets_a_credential_verified_then_revoked(live_app: LiveApp) -> None:
    app, url = live_app.app, live_app.url
    world = make_world(app, blocks=("BC01",), version="RNCP36140")
    credential_id = _acquire(app, world, "BC01")
    token = _token(app, credential_id)

    credential = _verifier(url, token).verify(
        token, check_status=True, verify_status_list=True, download=_fetch
    )
    vocab = Vocabulary(app.config["SETTINGS"].xapi_base)
    assert credential.issuer.id == f"{url}/credentials/issuers/{world.slug}"
    assert credential.achievement.id == vocab.block("CRCA", "BC01")
    assert credential.achievement.achievement_type == "Competency"
    candidature = registration(world.issuer, world.learner_sub, "CRCA")
    assert credential.recipient_id == f"urn:uuid:{candidature}"
    # The achievement is aligned to the block's CASE item, which the service serves.
    (alignment,) = credential.achievement.alignments
    assert alignment.target_code == "RNCP36140BC01"
    case_item = requests.get(alignment.target_url, timeout=10).json()
    assert case_item["humanCodingScheme"] == "RNCP36140BC01"
    assert case_item["CFItemType"] == "Bloc de compétences"
    payload = jwt.decode(token, options={"verify_signature": False})
    assert {
        i["identifier"] for i in payload["credentialSubject"]["achievement"]["otherIdentifier"]
    } == {
        "RNCP36140",
        "RNCP36140BC01",
    }
    text = json.dumps(payload)
    assert "Ne pas envoyer" not in text and "mailto:" not in text and world.learner_sub not in text
    issuer = requests.get(credential.issuer.id, timeout=10).json()
    assert issuer["type"] == ["Profile"] and issuer["name"].startswith("Organisme")

    revoked = _cli(app, "revoke", str(credential_id), "--reason", "Décision annulée")
    assert revoked.exit_code == 0, revoked.output
    with pytest.raises(OB3VerificationError, match="revocation"):
        _verifier(url, token).verify(
            token, check_status=True, verify_status_list=True, download=_fetch
        )
    # Without the status check the signature still holds: revocation is the list's word.
    assert _verifier(url, token).verify(token).achievement.id == vocab.block("CRCA", "BC01")
    listed = _cli(app, "list", world.slug)
    assert "BC01" in listed.output and "révoquée" in listed.output


def test_a_forged_or_altered_credential_is_refused(live_app: LiveApp) -> None:
    app, url = live_app.app, live_app.url
    world = make_world(app, blocks=("B1",))
    token = _token(app, _acquire(app, world, "B1"))
    header, _, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["credentialSubject"]["achievement"]["name"] = "B2B — bloc jamais acquis"
    forged_body = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    with pytest.raises(OB3VerificationError):
        _verifier(url, token).verify(f"{header}.{forged_body}.{signature}")


def test_each_organisation_has_its_own_status_list_indices(live_app: LiveApp) -> None:
    app = live_app.app
    one, other = make_world(app, blocks=("B1", "B2B")), make_world(app, blocks=("B1",))
    first, second = _acquire(app, one, "B1"), _acquire(app, one, "B2B")
    third = _acquire(app, other, "B1")
    with app.app_context():
        session = db.session()
        indices = {
            row.id: (row.organisation_id, row.status_index)
            for row in session.scalars(select(IssuedCredential))
        }
    assert indices[first] == (one.organisation_id, 1)
    assert indices[second] == (one.organisation_id, 2)
    assert indices[third] == (other.organisation_id, 1)
    missing = _cli(app, "issue-missing")
    assert missing.output.strip() == "0 attestation(s) délivrée(s)"
    assert requests.get(f"{live_app.url}/credentials/status/nope", timeout=10).status_code == 404


@pytest.mark.peer
def test_the_learner_downloads_it_from_mon_parcours(lti: LtiHarness) -> None:
    assessment = place(lti, "B2B")
    sub = f"badge-learner-{lti.platform_id}-{id(lti)}"
    learner(lti, sub, "B2B")
    submission = hand_in(lti, assessment, sub)
    url = paths(assessment, submission)
    chief, colleague = launch(lti, "chef-b", "B2B"), launch(lti, "collegue-b", "B2B")
    for trainer, role in ((chief, "hierarchy"), (colleague, "other_service")):
        trainer.page = trainer.get(url["grade"])
        signed = trainer.post(url["sign"], verdict_form(criteria("B2B"), "met", role=role))
        assert "Évaluation signée" in text_of(signed), errors_of(signed)
    chief.page = chief.get(url["decision"])
    expected = html.fromstring(chief.page.text).xpath("//input[@name='expected_decision']")
    decided = chief.post(
        url["decision"], {"expected_decision": expected[0].get("value") if expected else ""}
    )
    assert decided.status_code == 200, errors_of(decided)
    with lti.live.app.app_context(), db.transaction() as session:
        person = session.scalar(select(Person).where(Person.sub == sub))
        assert person is not None
        signer = session.scalar(select(Person).where(Person.sub == "chef-b"))
        jury_decides(
            session, person.platform.organisation_id, person.id, ("B2B",),
            "validation_partielle", signer.id,
        )  # fmt: skip

    student = learner(lti, sub, "B2B")
    page = student.get(f"/a/{assessment}/path")
    assert page.status_code == 200
    links = html.fromstring(page.text).xpath("//section[@aria-labelledby='attestations']//a/@href")
    assert len(links) == 1
    download = student.browser.get(f"{lti.tool_url}{links[0]}")
    assert download.status_code == 200
    assert download.headers["Content-Type"].startswith("application/vc+jwt")
    assert 'filename="CRCA-B2B.jwt"' in download.headers["Content-Disposition"]
    credential = _verifier(lti.tool_url, download.text).verify(
        download.text, check_status=True, verify_status_list=True, download=_fetch
    )
    assert credential.achievement.id.endswith("/certifications/CRCA/blocks/B2B")

    # Another learner of the same course cannot fetch it.
    other = learner(lti, f"{sub}-voisin", "B2B")
    credential_path = links[0].split("?")[0]
    assert other.get(credential_path).status_code == 404


def test_the_jury_s_award_gets_a_certification_credential(live_app: LiveApp) -> None:
    """The certification's own credential comes from the certification jury's award only."""
    app, url = live_app.app, live_app.url
    world = make_world(app)
    _acquire(app, world, "B1")  # validation partielle: no certification credential
    with app.app_context():
        assert (
            db.session()
            .scalars(select(IssuedCredential).where(IssuedCredential.award_id.is_not(None)))
            .all()
            == []
        )
    _acquire(app, world, "B2B")  # B1 held + B2B: validation totale, the award
    with app.app_context():
        (issued,) = (
            db.session()
            .scalars(select(IssuedCredential).where(IssuedCredential.award_id.is_not(None)))
            .all()
        )
        award = db.session().get(CertificationAward, issued.award_id)
        assert award is not None and award.jury_decision_id is not None
        credential_id, token = issued.id, issued.token

    credential = _verifier(url, token).verify(
        token, check_status=True, verify_status_list=True, download=_fetch
    )
    vocab = Vocabulary(app.config["SETTINGS"].xapi_base)
    assert credential.achievement.id == vocab.certification("CRCA")
    assert credential.achievement.achievement_type == "Certification"
    assert "Jury paritaire national (CPNFPE)" in credential.achievement.description
    candidature = registration(world.issuer, world.learner_sub, "CRCA")
    assert credential.recipient_id == f"urn:uuid:{candidature}"
    (alignment,) = credential.achievement.alignments
    assert alignment.target_code == "RNCP41351"
    assert requests.get(alignment.target_url, timeout=10).json()["title"]
    listed = _cli(app, "list", world.slug)
    assert f"{credential_id}  CRCA RNCP41351 certification" in listed.output

    assert _cli(app, "revoke", str(credential_id), "--reason", "Fraude").exit_code == 0
    with pytest.raises(OB3VerificationError, match="revocation"):
        _verifier(url, token).verify(
            token, check_status=True, verify_status_list=True, download=_fetch
        )

"""Benchmark: the trainers' grading page with a 90-criterion rubric, and the autosave.

In-process, through Flask's test client on a migrated SQLite database (a temporary instance
folder). The rubric is synthetic: the CRCA plugin's current referential (RNCP41351) read from
its package, whose Bloc 1 (42 criteria in 11 competencies) is extended with copies of its
competencies under new codes (C1.1b… with criteria C1.1b-1…) until the block holds 90 criteria;
the result goes through the core's referential schema (`parse_referential`) and is installed
as the CRCA plugin with the CRCA rules, so the outcome is computed by the real rules code.

A trainer's launch context is put in the signed session as a validated launch would put it.
Timed, N times each (after a warm-up):
- `GET /a/<id>/submissions/<sid>/grade`: the page (rubric, verdicts, live outcome);
- `POST /a/<id>/submissions/<sid>/evaluation` (JSON, as the page's autosave sends it): one
  verdict changed each time, the evaluation saved and the block outcome recomputed.

    .venv/bin/python bench/grading_page.py [--runs 300]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import tempfile
import time
from dataclasses import asdict
from importlib import resources
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import yaml

from ltiservice import create_app, db, migrate
from ltiservice.grading.interface import CertificationPlugin
from ltiservice.grading.schema import parse_referential
from ltiservice.lti.context import LaunchContext
from ltiservice.lti.roles import Role
from ltiservice.models import Assessment, Course, Person, Submission
from ltiservice.platforms import PlatformSpec, add_platform

CRITERIA = 90
VERDICTS = ("met", "not_met", "not_observed")


def synthetic_referential() -> tuple[str, int]:
    """RNCP41351 with Bloc 1 grown to `CRITERIA` criteria; (YAML text, criteria in B1)."""
    text = (
        resources.files("ltiservice_cqp_crca")
        .joinpath("referential-rncp41351.yaml")
        .read_text(encoding="utf-8")
    )
    data = yaml.safe_load(text)
    data["certification"]["supersedes"] = None  # installed alone: no older version to link
    data.pop("equivalences", None)
    block = next(b for b in data["blocks"] if b["code"] == "B1")
    originals = block["competencies"]
    count = sum(len(c["criteria"]) for c in originals)
    suffix = 0
    while count < CRITERIA:
        suffix += 1
        for competency in originals:
            if count >= CRITERIA:
                break
            extra = copy.deepcopy(competency)
            code = f"{competency['code']}{'b' * suffix}"
            extra["code"] = code
            extra["criteria"] = extra["criteria"][: CRITERIA - count]
            for rank, criterion in enumerate(extra["criteria"], start=1):
                criterion["id"] = f"{code}-{rank}"
            count += len(extra["criteria"])
            block["competencies"].append(extra)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False), count


def build(root: Path, runs: int) -> None:
    url = f"sqlite:///{root / 'bench.db'}"
    migrate.upgrade(url)
    app = create_app(
        {
            "env": "testing",
            "database_url": url,
            "instance_path": str(root / "instance"),
            "secret_key": "bench-secret-key-that-is-long-enough-0123456789",
            "outbox_thread": False,
        }
    )
    text, count = synthetic_referential()
    crca = app.extensions["plugins"]["CRCA"]
    referential = parse_referential(text)
    app.extensions["plugins"]["CRCA"] = CertificationPlugin.from_referentials(
        "bench-crca-90", [("referential-bench-90.yaml", referential)], rules=crca.rules
    )
    with app.app_context():
        session = db.session()
        platform = add_platform(
            session,
            PlatformSpec(
                "bench-of",
                "Bench",
                "https://lms.bench.invalid",
                "c",
                "https://a",
                "https://t",
                "https://k",
                ("d",),
            ),
        )
        session.flush()
        course = Course(platform_id=platform.id, context_id="course", title="Bench")
        trainer = Person(platform_id=platform.id, sub="trainer", name="Formatrice")
        learner = Person(platform_id=platform.id, sub="learner", name="Apprenant")
        session.add_all([course, trainer, learner])
        session.flush()
        assessment = Assessment(
            organisation_id=platform.organisation_id,
            platform_id=platform.id,
            course_id=course.id,
            resource_id="bench-90",
            resource_link_id="link",
            title="Étude de cas (90 critères)",
            certification_code="CRCA",
            referential_version=referential.version,
            block_code="B1",
            score_maximum=20.0,
        )
        session.add(assessment)
        session.flush()
        submission = Submission(
            assessment_id=assessment.id,
            person_id=learner.id,
            status="submitted",
            text="Réponse de l'apprenant.",
        )
        session.add(submission)
        session.commit()
        context = LaunchContext(
            launch_id="bench-launch",
            organisation_id=platform.organisation_id,
            platform_id=platform.id,
            person_id=trainer.id,
            course_id=course.id,
            roles=(Role.TRAINER.value,),
            message_type="LtiResourceLinkRequest",
            resource_link_id="link",
            assessment_id=assessment.id,
            csrf_token="bench-csrf",
        )
        ids = [c.id for c in referential.block("B1").criteria()]
        a_id, s_id = assessment.id, submission.id
    print(f"rubric: block B1 with {count} criteria ({len(ids)} after the schema)\n")
    print("| request | runs | p50 ms | p95 ms | p99 ms |\n|---|---:|---:|---:|---:|")

    client = app.test_client()
    with client.session_transaction() as flask_session:
        flask_session["launches"] = {context.launch_id: asdict(context)}
    page_url = f"/a/{a_id}/submissions/{s_id}/grade?launch=bench-launch"
    save_url = f"/a/{a_id}/submissions/{s_id}/evaluation?launch=bench-launch"
    verdicts = {cid: "met" for cid in ids}

    def page() -> None:
        response = client.get(page_url)
        assert response.status_code == 200, response.status_code
        assert ids[-1].encode() in response.data

    def save(n: int) -> None:
        verdicts[ids[n % len(ids)]] = VERDICTS[n % 3]
        response = client.post(
            save_url, json={"verdicts": verdicts}, headers={"X-CSRF-Token": "bench-csrf"}
        )
        assert response.status_code == 200, response.data[:300]
        assert response.get_json()["outcome"]["competency_count"] > 0

    report("grading page render (GET …/grade)", [timed(page) for _ in range(runs)])
    report("autosave + outcome (POST …/evaluation)", [timed(save, n) for n in range(runs)])


def timed(fn: object, *args: int) -> float:
    started = time.perf_counter()
    fn(*args)  # type: ignore[operator]
    return (time.perf_counter() - started) * 1000


def report(name: str, samples: list[float]) -> None:
    samples = samples[10:]  # warm-up: template compilation, first queries
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    print(
        f"| {name} | {len(samples)} | {statistics.median(samples):.1f} | {cuts[94]:.1f} "
        f"| {cuts[98]:.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        build(Path(tmp), args.runs + 10)


if __name__ == "__main__":
    main()

"""Schemathesis against the in-process app, for every operation and as every actor: no 5xx, every response
matches the documented status codes, content types and schemas, and invalid input (unknown fields, wrong
types, missing fields) is refused.

Each operation gets a bounded, derandomized run (MAX_EXAMPLES per actor): half of the cases are free-form
(positive and negative), half aim at objects that exist (resident_a's report and photo, community 2's grid,
department and accounts), so the fuzzer reaches past the 404s. A dedicated app (its own engine) is driven by
schemathesis on its own event-loop thread; the world is built through the session app and cleaned after.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from app.main import create_app
from tests.quality.authz_matrix import ACTORS, PHOTO_PNG, openapi_operations

MAX_EXAMPLES = 12
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection]
HYPOTHESIS = hsettings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
                       suppress_health_check=list(HealthCheck),
                       phases=[Phase.explicit, Phase.generate, Phase.shrink])


@pytest.fixture(scope="module")
def api_schema(settings):
    # live streams end after a moment here, so that each fuzzed call returns (and its events are validated)
    application = create_app(settings.model_copy(update={"stream_max_seconds": 0.2}))
    schema = schemathesis.openapi.from_asgi("/openapi.json", application)
    yield schema
    from schemathesis.python import asgi

    asgi.shutdown_lifespans()  # runs the app's lifespan exit on schemathesis's loop: disposes its engine


@pytest.fixture
async def targets(app, world, client) -> dict[str, list[int]]:
    """Existing objects to aim path parameters at, mostly someone else's for most actors."""
    from tests.reports.factories import make_report

    up = await client.post("/api/v1/uploads", headers=world.headers("resident_a"),
                           files={"file": ("p.png", PHOTO_PNG, "image/png")})
    assert up.status_code == 201, up.text
    report = await make_report(app, world, state="dispatched", is_public=False, photo_ids=[up.json()["id"]])
    mine = await client.post("/api/v1/uploads", headers=world.headers("resident_a"),
                             files={"file": ("q.png", PHOTO_PNG, "image/png")})
    u = world.users
    return {
        "grid_id": [world.g2.id, world.b3.id, world.c2.id, world.b1.id],
        "department_id": [world.d2.id, world.d1.id],
        "category_id": [world.cat.id],
        "user_id": [u["resident_c"].id, u["worker_out"].id, u["admin_c2"].id, u["resident_b"].id],
        "report_id": [report.id],
        "upload_id": [report.photos[0].id, mine.json()["id"]],
    }


def _strategy(op, targets: dict[str, list[int]]):
    names = [p.name for p in op.path_parameters]
    fixed = []
    if names and all(n in targets for n in names):
        width = max(len(targets[n]) for n in names)
        fixed = [{n: targets[n][i % len(targets[n])] for n in names} for i in range(width)]
    parts = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        parts.append(op.as_strategy(generation_mode=mode))
        parts += [op.as_strategy(generation_mode=mode, path_parameters=f) for f in fixed]
    return st.one_of(*parts)


def _fuzz(strategy, headers: dict[str, str]) -> None:
    @HYPOTHESIS
    @given(case=strategy)
    def run(case):
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    run()


@pytest.mark.parametrize(("method", "path"), openapi_operations())
def test_operation_conforms_to_its_schema(api_schema, world, targets, method, path):
    op = api_schema[path][method]
    strategy = _strategy(op, targets)
    failures: list[str] = []
    for actor in ACTORS:
        try:
            _fuzz(strategy, {} if actor == "anonymous" else world.headers(actor))
        except Exception as exc:  # noqa: BLE001 - every actor's failures, reported together
            failures.append(f"--- {method} {path} as {actor}:\n{exc}")
    assert not failures, "\n".join(failures)

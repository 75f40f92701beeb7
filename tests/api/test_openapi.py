"""The OpenAPI schema tells the truth: schemathesis fuzzes every operation of a real
`heimdex serve` as a signed-in user and checks each answer against ``/openapi.json``.

A failure is a server error (5xx) or a conformance failure: a status code the operation does
not declare, a body that does not match its declared schema, or a wrong content type.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.server import Server, cli

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
EXAMPLES = 25  # per operation and mode: about a minute for the whole schema on 2 cores


@pytest.fixture(scope="module")
def signed_in(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    """A server with accounts on and one ingested video of alice's; her bearer token."""
    library = tmp_path_factory.mktemp("openapi") / "library"
    library.mkdir()
    cli(library, "users", "add", "alice", stdin="alice-secret-pw\n")
    cli(library, "--user", "alice", "ingest", str(SAMPLES / "space_talk.mp4"), "--json")
    token = cli(library, "users", "token", "alice")
    # A limit the fuzzer never reaches: once limited, every answer would be 429 for a minute.
    server = Server(library, "local", auth=True, env={"HEIMDEX_API_RATE_LIMIT": "100000/minute"})
    yield server, token
    server.stop()


def test_every_answer_matches_the_schema(signed_in: tuple[Server, str]) -> None:
    server, token = signed_in
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    headers = {"Authorization": f"Bearer {token}"}
    checks = [not_a_server_error, status_code_conformance, content_type_conformance,
              response_schema_conformance]  # fmt: skip
    sent: list[str] = []
    failures: dict[str, str] = {}
    operations = [found.ok() for found in schema.get_all_operations()]
    for operation, mode in itertools.product(operations, schemathesis.GenerationMode):
        try:  # valid inputs, then invalid ones (their 422 bodies must match the schema too)
            _fuzz(operation, mode, lambda case: case.call_and_validate(
                headers=headers, checks=checks, timeout=60), sent)()  # fmt: skip
        except Unsatisfiable:  # no parameter to make invalid (/healthz, negative mode)
            continue
        except Exception as exc:  # every operation is tried; all failures are reported
            failures[f"{operation.label} ({mode})"] = str(exc)[:2000]
    print(f"{len(sent)} requests to {len(operations)} operations")  # shown with -s
    assert {op.label for op in operations} == set(sent)  # every operation was called
    assert not failures, "\n\n".join(f"{label}: {why}" for label, why in failures.items())


def _fuzz(
    operation: Any,
    mode: schemathesis.GenerationMode,
    call: Callable[[schemathesis.Case], object],
    sent: list[str],
) -> Callable[[], None]:
    """A Hypothesis test that calls ``operation`` with cases generated in ``mode``."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    def answers(case: schemathesis.Case) -> None:
        sent.append(operation.label)
        call(case)

    return answers  # type: ignore[no-any-return]

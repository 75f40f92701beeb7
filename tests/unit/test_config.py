"""`heimdex config`: every setting is listed with what it does; secrets never show."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from heimdex_lab.config import Settings, describe


def test_every_setting_is_described() -> None:
    rows = describe(Settings())
    assert [r["name"] for r in rows] == list(Settings.model_fields)
    assert [r["name"] for r in rows if not r["description"]] == []


def test_the_command_lists_values_from_the_environment_but_never_a_secret() -> None:
    env = {**os.environ, "HEIMDEX_WEIGHT_SCREEN": "2.5", "HEIMDEX_SUPABASE_KEY": "s3cret-key"}
    done = subprocess.run(
        [sys.executable, "-m", "heimdex_lab.cli", "config", "--json"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    rows = {r["name"]: r for r in json.loads(done.stdout)}
    assert rows["weight_screen"]["value"] == 2.5 and rows["weight_screen"]["default"] == 3.0
    assert rows["supabase_key"]["value"] == "(set)"
    assert "s3cret-key" not in done.stdout

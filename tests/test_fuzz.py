"""The fuzzing harness (tests/fuzz/fuzz_pages.py) on a bounded number of inputs.

atheris runs the same target for long, coverage-guided runs; here hypothesis
feeds it random and markup-shaped bytes, plus the fixture pages, so CI runs
the harness on every commit without atheris installed.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

HARNESS = Path(__file__).parent / "fuzz" / "fuzz_pages.py"
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def harness(tiny_models):
    from boilerclf import Extractor

    spec = importlib.util.spec_from_file_location("fuzz_pages", HARNESS)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.EXTRACTOR = Extractor(model=tiny_models[0], text_model=tiny_models[1])
    return mod


TOKENS = st.sampled_from([
    b"<html>", b"<body>", b"<p>", b"</p>", b"<div class=nav>", b"</div>", b"<li>", b"<ul>", b"<a href=x>",
    b"</a>", b"<br>", b"<script>", b"</script>", b"<!--", b"-->", b"<![CDATA[", b"<svg>", b"<table><td>",
    b"<meta charset=shift_jis>", b"<meta charset=utf-16>", b"\x00", b"\xff\xfe", b"\xef\xbb\xbf",
    b"\xe6\x97\xa5", b"\xd9\x85", b"&amp;", b"&#0;", b"&#x110000;", b"word ", b"\n\n", b"# ", b"- ",
    b"[x](y)", b"<h1>", b"<title>", b"<form>", b"</form>", b"<option>",
])
INPUTS = st.binary(max_size=400) | st.lists(TOKENS | st.binary(max_size=8), max_size=60).map(b"".join)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, 255), INPUTS)
def test_harness_target_holds(harness, mode, page):
    harness.check_one_input(bytes([mode]) + page)


FORMATTING = st.sampled_from([
    b"<b>", b"</b>", b"<i>", b"</i>", b"<a href=x>", b"<a>", b"</a>", b"<nobr>", b"<font color=1>",
    b"<font face=x>", b"</font>", b"<u>", b"<em>", b"<strong>", b"<b id=1>", b"<p>", b"</p>", b"<div>",
    b"</div>", b"<li>", b"<table>", b"<tr>", b"<td>", b"</td>", b"<object>", b"</object>", b"<svg>",
    b"<span>", b"x", b" ",
])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, 31), st.integers(0, 255), st.lists(FORMATTING, min_size=1, max_size=8).map(b"".join))
def test_harness_on_repeated_misnested_markup(harness, mode, reps, unit):
    """Runs of misnested formatting elements (up to 256 KB, the harness's repeat mode) finish in time."""
    harness.check_one_input(bytes([harness.REPEAT | mode, reps]) + unit)


def test_harness_seeds(harness):
    for seed in harness.SEEDS:
        assert seed[0] & harness.REPEAT
        harness.check_one_input(seed)
    assert all(b"<" in token or token == b"x" for token in harness.DICTIONARY)


def test_harness_adds_seeds_and_dictionary(harness, tmp_path):
    argv = harness.add_seeds(["fuzz_pages.py", "-runs=10", str(tmp_path)])
    assert len(list(tmp_path.iterdir())) == len(harness.SEEDS)
    (flag,) = [a for a in argv if a.startswith("-dict=")]
    path = Path(flag[len("-dict="):])
    lines = path.read_text().splitlines()
    assert len(lines) == len(harness.DICTIONARY) and lines[0] == '"' + "".join(
        f"\\x{b:02x}" for b in harness.DICTIONARY[0]) + '"'
    assert harness.add_seeds(["x", "-dict=mine.dict"]) == ["x", "-dict=mine.dict"]


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.iterdir()))
@pytest.mark.parametrize("mode", range(0, 32, 3))
def test_harness_on_the_fixtures(harness, name, mode):
    harness.check_one_input(bytes([mode]) + (FIXTURES / name).read_bytes())

"""The review page end to end in a real headless browser.

Selenium drives Debian's chromium through Debian's chromedriver (nothing is
downloaded).  ``bash .ci/run`` installs both when they are missing, and in CI
(``CI`` set) a missing browser is a failure; elsewhere the module is skipped
with the command that installs them.
"""
from __future__ import annotations

import http.client
import json
import os
import shutil

import pytest

from boilerclf.labels import file as labelsfile
from boilerclf.labels.review import TOKEN_HEADER, Review, ReviewServer

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
    msg = "needs chromium and chromedriver: apt-get install chromium chromium-driver"
    if os.environ.get("CI"):
        raise RuntimeError(f"the browser test {msg} (.ci/run installs them)")
    pytest.skip(msg, allow_module_level=True)

from selenium import webdriver  # noqa: E402 - after the availability check
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

WAIT = 15


@pytest.fixture(scope="module")
def browser():
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1200,900", "--no-first-run", "--disable-extensions"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(WAIT)
    yield driver
    driver.quit()


@pytest.fixture
def server(serve):
    return serve


def wait_state(driver, *states: str) -> None:
    WebDriverWait(driver, WAIT).until(
        lambda d: d.find_element(By.ID, "status").get_attribute("data-state") in states,
        message=f"status never became {states}")


def line(driver, j: int):
    return driver.find_element(By.ID, f"line-{j}")


def shown_labels(driver, n: int) -> list:
    classes = driver.execute_script(
        "return Array.from(document.querySelectorAll('#lines .line'), d => d.className)")
    assert len(classes) == n
    return [1 if " l1" in f" {c}" else 0 if " l0" in f" {c}" else None for c in classes]


def press(driver, keys: str) -> None:
    ActionChains(driver).send_keys(keys).perform()


def test_flip_range_keys_save_reload(browser, server, tmp_path, labels_records, lighthouse_html, rail_text):
    path = tmp_path / "labels.jsonl"
    recs = labels_records(lighthouse_html, rail_text)  # page 0: all 0 but line 5; page 1: all 1
    labelsfile.write_labels(path, recs)
    n0, n1 = len(recs[0]["lines"]), len(recs[1]["lines"])
    srv = server(Review.open(path))
    browser.get(srv.url)
    wait_state(browser, "clean")
    assert "lighthouse" in browser.find_element(By.ID, "meta").text
    assert shown_labels(browser, n0) == [int(j == 5) for j in range(n0)]

    line(browser, 2).click()                                       # flip one line: 0 -> 1
    assert "l1" in line(browser, 2).get_attribute("class").split()
    assert "edited" in line(browser, 2).get_attribute("class").split()
    ActionChains(browser).key_down(Keys.SHIFT).click(line(browser, 6)).key_up(Keys.SHIFT).perform()
    press(browser, "j")                                            # select line 7 ...
    press(browser, "x")                                            # ... and flip it
    press(browser, "jj ")                                          # line 9 flipped with space
    want = [int(j == 5 or 2 <= j <= 7 or j == 9) for j in range(n0)]
    assert shown_labels(browser, n0) == want
    assert browser.find_element(By.ID, "status").get_attribute("data-state") in ("dirty", "saving", "saved")

    browser.find_element(By.ID, "save").click()
    wait_state(browser, "saved")
    on_disk = labelsfile.read_labels(path)
    assert [ln["label"] for ln in on_disk[0]["lines"]] == want
    assert on_disk[0]["reviewed"] is True
    assert on_disk[1] == recs[1]                                   # the other page is untouched
    assert [ln["text"] for ln in on_disk[0]["lines"]] == [ln["text"] for ln in recs[0]["lines"]]

    browser.refresh()                                              # the flips survive a reload
    wait_state(browser, "clean")
    assert shown_labels(browser, n0) == want
    assert "reviewed yes" in browser.find_element(By.ID, "meta").text
    assert "\u2713 lighthouse" in browser.find_element(By.ID, "pages").text

    press(browser, "n")                                            # next page by key
    WebDriverWait(browser, WAIT).until(lambda d: "rail" in d.find_element(By.ID, "meta").text)
    assert browser.current_url.endswith("#2")
    press(browser, "kc")                                           # line 0: 'c' keeps it content
    press(browser, "b")                                            # 'b' marks it boilerplate
    press(browser, "p")                                            # leaving the page saves it
    WebDriverWait(browser, WAIT).until(lambda d: "lighthouse" in d.find_element(By.ID, "meta").text)
    second = labelsfile.read_labels(path)[1]
    assert [ln["label"] for ln in second["lines"]] == [0] + [1] * (n1 - 1) and second["reviewed"]

    browser.get("about:blank")
    browser.get(srv.url + "#2")                                    # the page number is in the URL
    wait_state(browser, "clean")
    assert shown_labels(browser, n1) == [0] + [1] * (n1 - 1)
    assert labelsfile.read_labels(path)[0] == on_disk[0]


def test_read_only_predictions(browser, server, tmp_path, labels_records, lighthouse_html, rail_text):
    recs = labels_records(lighthouse_html, rail_text)
    srv = server(Review(recs))
    browser.get(srv.url)
    wait_state(browser, "readonly")
    assert "read-only" in browser.find_element(By.ID, "mode").text
    assert browser.find_element(By.ID, "save").get_attribute("disabled") is not None
    n0 = len(recs[0]["lines"])
    before = shown_labels(browser, n0)
    line(browser, 3).click()
    press(browser, "x ")
    assert shown_labels(browser, n0) == before
    assert "sel" in line(browser, 3).get_attribute("class").split()  # selection still works
    score = line(browser, 0).find_element(By.CLASS_NAME, "score").text
    assert score == "0.50"


def save_elsewhere(srv: ReviewServer, i: int, labels: list) -> None:
    """Save page ``i`` as another tab would."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=WAIT)
    conn.request("GET", f"/api/page?i={i}")
    page = json.loads(conn.getresponse().read())
    body = json.dumps({"id": page["id"], "labels": labels, "version": page["version"]}).encode()
    conn.request("POST", f"/api/page?i={i}", body, {"Content-Type": "application/json", TOKEN_HEADER: srv.token})
    r = conn.getresponse()
    assert r.status == 200, r.read()
    r.read()
    conn.close()


def test_save_over_another_tabs_save_is_a_conflict(browser, server, tmp_path, labels_records, lighthouse_html,
                                                   rail_text):
    path = tmp_path / "labels.jsonl"
    recs = labels_records(lighthouse_html, rail_text)
    labelsfile.write_labels(path, recs)
    n0 = len(recs[0]["lines"])
    srv = server(Review.open(path))
    browser.get(srv.url)
    wait_state(browser, "clean")
    theirs = [1] * n0
    save_elsewhere(srv, 0, theirs)                                 # another tab saves page 0 first

    line(browser, 2).click()
    browser.find_element(By.ID, "save").click()
    wait_state(browser, "error")
    status = browser.find_element(By.ID, "status").text
    assert "conflict" in status and "reload the page" in status
    assert [ln["label"] for ln in labelsfile.read_labels(path)[0]["lines"]] == theirs  # theirs is kept

    browser.execute_script("S.gen = S.savedGen;")                 # drop the refused edit (no leave prompt)
    browser.refresh()
    wait_state(browser, "clean")
    assert shown_labels(browser, n0) == theirs
    line(browser, 2).click()                                       # after the reload, saves land again
    browser.find_element(By.ID, "save").click()
    wait_state(browser, "saved")
    assert [ln["label"] for ln in labelsfile.read_labels(path)[0]["lines"]] == [int(j != 2) for j in range(n0)]


def test_why_shows_the_reasons_of_a_line_and_u_finds_uncertain_lines(browser, server, tmp_path, labels_records,
                                                                     lighthouse_html, rail_text, tiny_models):
    from boilerclf.model.files import load
    from boilerclf.model.reasons import STAGE2_NAMES

    recs = labels_records(lighthouse_html, rail_text)
    for ln in recs[0]["lines"]:  # the model is sure of every line but 3 and 7
        ln["score"] = {3: 0.6, 7: 0.3}.get(ln["i"], 0.01)
    path = tmp_path / "labels.jsonl"
    labelsfile.write_labels(path, recs)
    model = load(tiny_models[0])[0]
    srv = server(Review.open(path, model_for=lambda kind: model))
    browser.get(srv.url)
    wait_state(browser, "clean")
    n0 = len(recs[0]["lines"])
    before = shown_labels(browser, n0)
    assert [j for j in range(n0) if "unsure" in line(browser, j).get_attribute("class").split()] == [3, 7]
    assert "uncertain 2" in browser.find_element(By.ID, "meta").text

    line(browser, 5).find_element(By.CLASS_NAME, "whybtn").click()     # reasons on demand ...
    WebDriverWait(browser, WAIT).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#why-5 tr.reason"))
    box = browser.find_element(By.ID, "why-5")
    assert box.text.startswith("score ") and "moved it most" in box.text
    rows = box.find_elements(By.CSS_SELECTOR, "tr.reason")
    assert 1 <= len(rows) <= 6
    for row in rows:
        feature, value, effect = (td.text for td in row.find_elements(By.TAG_NAME, "td"))
        assert feature in STAGE2_NAMES and value.startswith("= ") and effect[0] in "+\u2212"
    assert shown_labels(browser, n0) == before                         # ... without flipping the line
    assert "sel" in line(browser, 5).get_attribute("class").split()
    press(browser, "w")                                                # w on the selected line hides them
    WebDriverWait(browser, WAIT).until(lambda d: not d.find_elements(By.ID, "why-5"))

    press(browser, "u")                                                # next uncertain line: 7, then 3
    assert "sel" in line(browser, 7).get_attribute("class").split()
    press(browser, "u")
    assert "sel" in line(browser, 3).get_attribute("class").split()
    press(browser, "w")
    WebDriverWait(browser, WAIT).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#why-3 tr.reason"))
    assert shown_labels(browser, n0) == before

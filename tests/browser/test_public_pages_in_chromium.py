"""The public pages in a real headless browser (SPEC §13): Debian's chromium and
chromium-driver driven by Selenium, axe-core 4 (shipped inside axe-core-python) checking
WCAG 2.1 AA, and a visitor's path: the scorecard, a measure, Spanish, the voice form.

Without chromium these tests are skipped with a note, except in CI (`CI=true`), where
.ci/run installs it and its absence is a failure. Screenshots are saved to
build/screenshots/ (or $IMPACTBOT_SCREENSHOTS).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.emulator.sandbox import Sandbox
from tests.support.digest import seed_week
from tests.support.public import go_public
from tests.support.world import BACKBONE, NOW, populate_world

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("IMPACTBOT_SCREENSHOTS", ROOT / "build" / "screenshots"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
# WCAG 2.1 A and AA rules, and axe's best practices (landmarks, headings…).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
BLOCKING = {"serious", "critical"}


def _need_browser() -> None:
    if CHROMIUM and CHROMEDRIVER:
        return
    note = ("browser tests need Debian's chromium and chromium-driver "
            "(apt-get install -y chromium chromium-driver; .ci/run installs them)")
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI: {note}")
    pytest.skip(note)


def _axe_source() -> str:
    import axe_core_python

    return (Path(axe_core_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    _need_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM or ""
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 "--disable-gpu", "--window-size=1280,1600", "--lang=en-US"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Sandbox]:
    """The app with the example initiative public and months of figures (SQLite: the
    browser sees the same pages on either database)."""
    _need_browser()
    with Sandbox(f"sqlite:///{tmp_path / 'browser.db'}", now=NOW) as sandbox:
        populate_world(sandbox)
        go_public(sandbox, tmp_path)
        seed_week(sandbox.store)
        yield sandbox
        sandbox.settle()


def _axe(browser: Any) -> list[dict[str, Any]]:
    browser.execute_script(_axe_source())
    result = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
        ".then(r => done(r.violations)).catch(e => done([{id: 'axe-error', impact: 'critical',"
        " help: String(e), nodes: []}]));", AXE_TAGS)
    return list(result)


def _follow(browser: Any, element: Any) -> None:
    """Click and wait for the next page to replace this one (a condition, not a timer)."""
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    page = browser.find_element("tag name", "html")
    element.click()
    WebDriverWait(browser, 20).until(expected_conditions.staleness_of(page))


def _shot(browser: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1280, max(800, min(int(height) + 40, 6000)))
    path = SHOTS / f"{name}.png"
    browser.save_screenshot(str(path))
    browser.set_window_size(1280, 1600)
    return path


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize("path", ["/scorecard", "/scorecard/prenatal-visits", "/voice"])
def test_axe_finds_no_serious_or_critical_violation(browser: Any, site: Sandbox, path: str,
                                                    lang: str) -> None:
    browser.get(f"{site.base_url}{path}?lang={lang}")
    assert browser.find_element("tag name", "h1").text
    violations = _axe(browser)
    blocking = [(v["id"], v["impact"], v.get("help"), [n.get("target") for n in v["nodes"]])
                for v in violations if v.get("impact") in BLOCKING]
    assert blocking == [], blocking


def test_a_visitor_reads_the_scorecard_follows_a_measure_in_spanish_and_speaks_up(
        browser: Any, site: Sandbox) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{site.base_url}/scorecard")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    assert "Scorecard: Healthy Starts Lake County" in browser.find_element(By.TAG_NAME, "h1").text
    svg_title = browser.find_element(By.CSS_SELECTOR, "svg title")
    assert svg_title.get_attribute("textContent").startswith("Chart: ")
    _shot(browser, "scorecard-en")

    _follow(browser, browser.find_element(By.LINK_TEXT, "First-trimester prenatal visits"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "First-trimester prenatal visits"
    table = browser.find_element(By.TAG_NAME, "table")
    assert "Oct 2026" in table.text and "1 of 2" in table.text
    _shot(browser, "measure-en")

    _follow(browser, browser.find_element(By.LINK_TEXT, "Español"))
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "es"
    assert "Meta: 80%" in browser.find_element(By.TAG_NAME, "main").text
    _shot(browser, "measure-es")

    _follow(browser, browser.find_element(By.LINK_TEXT, "Comparta su opinión"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Comparta su opinión"
    _shot(browser, "voice-es")
    field = browser.find_element(By.ID, "message")
    field.send_keys("La parada del autobús está lejos de la clínica.")
    _follow(browser, browser.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Gracias"
    _shot(browser, "voice-thanks-es")

    site.settle()
    voices = [m for m in site.emulator.bot_messages(BACKBONE)
              if "public form" in m["text"]]
    assert len(voices) == 1
    assert "La parada del autobús está lejos de la clínica." in voices[0]["text"]

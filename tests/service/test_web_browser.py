"""The pages in a real browser: headless Debian Chromium driven by Selenium, against a real
uvicorn server on loopback over a database filled by replaying real SDN files (plus the derived
day of test_web.py). Screenshots are saved under the test's temporary folder.

`scripts/test` installs Chromium with `scripts/install-browser` where it is missing; where no
browser can be installed these tests skip and say why.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from tests.helpers import make_runtime
from tests.service.test_web import CONFIG, HOSTILE, TOKEN, fill
from watcher.service.api import create_app
from watcher.store.engine import make_engine, upgrade

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium not installed (test extra)")
from selenium.common.exceptions import NoAlertPresentException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (CHROMIUM and DRIVER),
        reason="no chromium/chromedriver: run scripts/install-browser (needs apt-get as root)",
    ),
]
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
)  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real uvicorn server on loopback, token-protected as when bound beyond it."""
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'web.db'}"
    upgrade(make_engine(url))
    rt = make_runtime(url, CONFIG)
    fill(rt)
    port = _free_port()
    config = uvicorn.Config(
        create_app(rt, TOKEN), host="127.0.0.1", port=port, log_config=None, lifespan="off"
    )
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    uv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager look online
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
    options.add_argument("--window-size=1280,1000")
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(str(DRIVER)))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def _wait(driver: Any) -> Any:
    return WebDriverWait(driver, 20)


def _shot(driver: Any, path: Path) -> None:
    assert driver.save_screenshot(str(path)) and path.stat().st_size > 5000


def test_timeline_filter_entity_and_screen_in_chromium(
    server: str, browser: Any, tmp_path: Path
) -> None:
    browser.get(f"{server}/")
    assert "Sign in" in browser.title  # a token is required: the login form
    field = browser.find_element(By.NAME, "token")
    field.send_keys(TOKEN)
    field.send_keys(Keys.ENTER)
    _wait(browser).until(ec.title_contains("Timeline"))
    groups = browser.find_elements(By.CSS_SELECTOR, "section.group")
    assert groups and "2021-12-17" in groups[0].find_element(By.TAG_NAME, "h2").text
    assert browser.find_element(By.CSS_SELECTOR, "figure.chart svg rect")
    hostile = browser.find_elements(By.LINK_TEXT, HOSTILE)  # rendered as text, never run
    assert len(hostile) == 1
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018 - no alert(1) ever opened
    _shot(browser, tmp_path / "1-timeline.png")

    Select(browser.find_element(By.NAME, "kind")).select_by_visible_text("modified")
    browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
    _wait(browser).until(ec.url_contains("kind=modified"))
    kinds = {e.get_attribute("class") for e in browser.find_elements(By.CSS_SELECTOR, "li.change")}
    assert kinds == {"change kind-modified"}
    assert "renamed:" in browser.page_source
    _shot(browser, tmp_path / "2-filtered.png")

    browser.find_element(By.PARTIAL_LINK_TEXT, "AEROCARIBBEAN AIRLINES S.A.").click()
    _wait(browser).until(ec.title_contains("AEROCARIBBEAN"))
    changed = browser.find_elements(By.CSS_SELECTOR, "table.versions td.changed")
    assert [c.text for c in changed] == ["AEROCARIBBEAN AIRLINES S.A."]
    _shot(browser, tmp_path / "3-entity.png")

    browser.find_element(By.LINK_TEXT, "Screen").click()
    box = _wait(browser).until(ec.presence_of_element_located((By.NAME, "q")))
    box.send_keys("Shohrat Zakir")
    box.send_keys(Keys.ENTER)
    _wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "table.results")))
    row = browser.find_element(By.CSS_SELECTOR, "table.results tbody tr").text
    assert "100.0" in row and "ZAKIR, Shohrat" in row and "2021-12-10" in row
    _shot(browser, tmp_path / "4-screen.png")


def test_narrow_screen_and_keyboard(server: str, browser: Any, tmp_path: Path) -> None:
    browser.get(f"{server}/?token={TOKEN}")  # sets the cookie and drops the token from the URL
    _wait(browser).until(ec.title_contains("Timeline"))
    assert "token" not in browser.current_url
    browser.set_window_size(390, 844)
    browser.get(f"{server}/sources")
    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - window.innerWidth"
    )
    wide = browser.execute_script(
        "return [...document.querySelectorAll('body *')].filter(e => !e.closest('.scroll')"
        " && e.getBoundingClientRect().right > window.innerWidth + 1)"
        ".map(e => e.tagName + '.' + e.className).slice(0, 5)"
    )
    assert overflow <= 1, wide  # readable on a phone: no sideways scrolling of the page
    assert browser.find_element(By.CSS_SELECTOR, ".badge.rejected").is_displayed()
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    active = browser.switch_to.active_element
    assert active.text == "Skip to content"
    _shot(browser, tmp_path / "5-sources-narrow.png")

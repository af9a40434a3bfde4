"""A person opens the playground in a real browser, types /status, simulates an alert, acks it."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require_binary
from tests.integration.howl_process import running_howl

pytestmark = pytest.mark.e2e


@pytest.fixture
def browser() -> Iterator[object]:
    chromium = require_binary("chromium", "chromium-browser")
    driver_path = require_binary("chromedriver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    profile = tempfile.mkdtemp(prefix="howl-chromium-")
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


async def test_playground_status_in_browser(tmp_path: Path, browser: object) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser  # a selenium WebDriver
    async with running_howl(tmp_path) as howl:  # no token: playground mode

        def person_asks_for_status() -> str:
            driver.get(f"{howl.http}/playground")  # type: ignore[attr-defined]
            wait = WebDriverWait(driver, 20)
            box = wait.until(ec.element_to_be_clickable((By.ID, "text")))
            box.send_keys("/status", Keys.ENTER)
            answer = wait.until(
                ec.presence_of_element_located(
                    (By.XPATH, "//div[contains(@class,'bot')]//div[contains(., 'Uptime')]")
                )
            )
            return str(answer.text)

        def person_simulates_an_alert() -> str:
            WebDriverWait(driver, 20).until(ec.element_to_be_clickable((By.ID, "simulate"))).click()
            card = WebDriverWait(driver, 20).until(
                ec.presence_of_element_located(
                    (
                        By.XPATH,
                        "//div[contains(@class,'bot')]//div[contains(., 'KubePodCrashLooping')]",
                    )
                )
            )
            return str(card.text)

        def person_presses_ack() -> tuple[list[str], str, str]:
            wait = WebDriverWait(driver, 20)
            card_xpath = "//div[contains(@class,'bot')][contains(., 'KubePodCrashLooping')]"
            ack = wait.until(
                ec.element_to_be_clickable((By.XPATH, f"{card_xpath}//button[text()='Ack']"))
            )
            labels = [
                str(b.text)
                for b in driver.find_elements(By.XPATH, f"{card_xpath}//button")  # type: ignore[attr-defined]
            ]
            ack.click()
            notice = wait.until(
                ec.visibility_of_element_located(
                    (By.XPATH, "//div[@id='toast'][contains(., 'acknowledged')]")
                )
            )
            edited = wait.until(
                ec.presence_of_element_located(
                    (By.XPATH, f"{card_xpath}[.//button[text()='Unack']]")
                )
            )
            return labels, str(notice.text), str(edited.text)

        text = await asyncio.to_thread(person_asks_for_status)
        card = await asyncio.to_thread(person_simulates_an_alert)
        labels, notice, acked = await asyncio.to_thread(person_presses_ack)
    assert "Howl 0.1.0" in text
    assert "Mode: playground" in text
    assert "Database: sqlite" in text
    assert "#1 KubePodCrashLooping" in card and "firing" in card
    assert "Pod prod/api-7d9f8b6c5-x2k4q is crash looping" in card
    assert labels == ["Ack", "Silence 1h", "Resolve"]
    assert notice == "Incident #1 acknowledged by You."
    assert "Acknowledged by You" in acked and "Unack" in acked

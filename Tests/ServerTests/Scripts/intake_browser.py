#!/usr/bin/env python3
"""The upload page shows why each entry of a hostile zip was refused, in headless Chromium (Debian's chromium and
chromium-driver) through selenium.

Usage: intake_browser.py BASE_URL USERNAME PASSWORD SCREENSHOT_DIR BOMB_ZIP VALID_ZIP NOTE_SIZE LOCALES_DIR

Signs in, uploads the two archives through the page's file input, waits for the results, and checks that the bomb's
entry is a failed row whose reason (naming the cap) is visible on the page, not only in a tooltip, with the refusal
said in the page's language as the locale files (intake.<lang>.json) word it, and that the valid
archive's text file is a skipped row showing its size (NOTE_SIZE bytes, as Python's zipfile reads it). Prints one line per step, then "ok"; exits non-zero on failure.
"""
import json
import os
import sys

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

base, username, password, shots, bomb, valid, note_size, locales = sys.argv[1:9]


def refusal_template(language, cap):
    with open(os.path.join(locales, f"intake.{language}.json"), encoding="utf-8") as f:
        return json.load(f)["intake"]["refusal"][cap]
os.makedirs(shots, exist_ok=True)
options = webdriver.ChromeOptions()
for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1360,900", "--lang=en-US"]:
    options.add_argument(argument)
options.binary_location = "/usr/bin/chromium"
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
wait = WebDriverWait(driver, 120, ignored_exceptions=[StaleElementReferenceException, WebDriverException])

try:
    print("step: sign in", flush=True)
    driver.get(base + "/login")
    wait.until(EC.presence_of_element_located((By.ID, "login-form")))
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "sign-in").click()
    wait.until(lambda d: "/login" not in d.current_url)

    print("step: upload a bomb and a valid archive", flush=True)
    driver.get(base + "/upload")
    driver.find_element(By.ID, "upload-files").send_keys(bomb + "\n" + valid)
    wait.until(lambda d: d.find_element(By.ID, "upload").get_attribute("data-state") == "done")
    rows = driver.find_elements(By.CSS_SELECTOR, "#upload-results tbody tr")
    failed = [r for r in rows if r.get_attribute("data-status") == "failed"]
    assert len(failed) == 1, f"failed rows: {[r.text for r in failed]}"
    reason = failed[0].find_element(By.CSS_SELECTOR, ".reason")
    assert reason.is_displayed(), "the reason is not shown"
    assert "maximumEntryBytes" in reason.text and "4294967296" in reason.text, f"the reason reads {reason.text!r}"
    # 4 GiB declared against the 2 GiB default cap, in binary units with one decimal as the page writes sizes.
    language = driver.find_element(By.TAG_NAME, "html").get_attribute("lang")
    expected = refusal_template(language, "maximumEntryBytes").replace("{size}", "4.0 GiB").replace("{limit}", "2.0 GiB")
    refusal = failed[0].find_element(By.CSS_SELECTOR, ".refusal")
    assert refusal.is_displayed() and refusal.text == expected, f"the refusal reads {refusal.text!r}, expected {expected!r}"
    skipped = [r for r in rows if r.get_attribute("data-status") == "skipped"]
    assert len(skipped) == 1 and "readme.txt" in skipped[0].text, f"skipped rows: {[r.text for r in skipped]}"
    size = skipped[0].find_element(By.CSS_SELECTOR, ".size")
    assert size.is_displayed() and f"({note_size} B)" in size.text, f"the size reads {size.text!r}"
    driver.save_screenshot(os.path.join(shots, "upload-refused-entries.png"))
    print("ok", flush=True)
except Exception as error:
    driver.save_screenshot(os.path.join(shots, "upload-refused-entries-failure.png"))
    print(f"failed: {error}", flush=True)
    sys.exit(1)
finally:
    driver.quit()

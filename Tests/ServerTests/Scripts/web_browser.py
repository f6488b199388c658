#!/usr/bin/env python3
"""Drives the web application in headless Chromium (Debian's chromium and chromium-driver) through selenium.

Usage: web_browser.py BASE_URL LOCALES_DIR SCREENSHOT_DIR FIXTURES_JSON

Steps: sign in through the sign-in page, switch to English, upload a study through the upload page (file input, resumable chunks), wait
for the per-file result, find the study in the study browser by patient ID, open its study page, switch the
language to Chinese and check the navigation reads as zh-CN.json says, and see oneself in the administration's
list of people. Then, through the administration forms: create an institution, see a weak password and a duplicate
user name refused in the page, create a person of that institution and sign in as that person in a fresh browser
session; create an API token for the person (shown once), check it answers /api/me, revoke it through the page and
check it gets 401; add a role, reset the password, disable and enable the account, checking sign-in each time. Saves a screenshot after each page. Prints
one line per step; exits non-zero with the reason on the first failure.
"""
import json
import os
import sys
import time
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait


def flatten(node, prefix=""):
    out = {}
    for key, value in node.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            out.update(flatten(value, name))
        else:
            out[name] = value
    return out


base, locales_dir, shots, fixtures_path = sys.argv[1:5]
os.makedirs(shots, exist_ok=True)
english = flatten(json.load(open(os.path.join(locales_dir, "en.json"), encoding="utf-8")))
chinese = flatten(json.load(open(os.path.join(locales_dir, "zh-CN.json"), encoding="utf-8")))
fixtures = json.load(open(fixtures_path, encoding="utf-8"))

options = webdriver.ChromeOptions()
for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1360,900", "--lang=en-US"]:
    options.add_argument(argument)
options.binary_location = "/usr/bin/chromium"
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
wait = WebDriverWait(driver, 60, ignored_exceptions=[StaleElementReferenceException, WebDriverException])


def step(name):
    print("step:", name, flush=True)


def shot(name):
    driver.save_screenshot(os.path.join(shots, name + ".png"))


def click_and_load(*locator):
    """Clicks what `locator` finds, which loads a new page, and waits until the old page is gone and the new one is
    loaded. Chromium may report a node of the page being replaced in several ways; each is retried."""
    old = driver.find_element(By.TAG_NAME, "html")
    for attempt in range(5):
        try:
            driver.find_element(*locator).click()
            break
        except WebDriverException:
            if attempt == 4:
                raise
            time.sleep(0.2)

    def gone(_):
        try:
            old.is_enabled()
            return False
        except WebDriverException:
            return True

    wait.until(gone)
    wait.until(lambda d: d.execute_script("return document.readyState") == "complete")


def choose(select_id, predicate):
    """Selects the first option of the select `select_id` that `predicate` accepts."""
    options_found = driver.find_elements(By.CSS_SELECTOR, f"#{select_id} option")
    matching = [o for o in options_found if predicate(o)]
    assert matching, f"no matching option in #{select_id}: {[o.text for o in options_found]}"
    matching[0].click()


def me_status(token):
    """The HTTP status of GET /api/me with `token` as a bearer token."""
    request = urllib.request.Request(base + "/api/me", headers={"Authorization": "Bearer " + token, "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def sign_in_status(username, password):
    """The HTTP status of signing in through POST /api/session."""
    body = json.dumps({"username": username, "password": password}).encode()
    request = urllib.request.Request(base + "/api/session", data=body, headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def nav_labels():
    return [a.text for a in driver.find_elements(By.CSS_SELECTOR, ".mainnav a")]


try:
    step("sign in")
    driver.get(base + "/studies")
    wait.until(EC.presence_of_element_located((By.ID, "login-form")))
    assert "/login" in driver.current_url, f"signed out, /studies went to {driver.current_url}"
    click_and_load(By.CSS_SELECTOR, '.langswitch button[data-lang="en"]')
    wait.until(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en")
    shot("login-en")
    driver.find_element(By.ID, "username").send_keys(fixtures["username"])
    driver.find_element(By.ID, "password").send_keys(fixtures["password"])
    click_and_load(By.ID, "sign-in")
    wait.until(EC.presence_of_element_located((By.ID, "study-search")))
    assert fixtures["username"] in driver.find_element(By.CSS_SELECTOR, ".person").get_attribute("title"), "no signed-in person shown"

    step("switch to English as the person's setting")
    click_and_load(By.CSS_SELECTOR, '.langswitch button[data-lang="en"]')
    wait.until(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en")
    assert english["nav.studies"] in nav_labels(), f"navigation {nav_labels()} lacks {english['nav.studies']}"
    driver.get(base + "/")
    shot("home-en")

    step("upload a study")
    driver.get(base + "/upload")
    chooser = driver.find_element(By.ID, "upload-files")
    chooser.send_keys(fixtures["chinese"]["path"] + "\n" + fixtures["zip"]["path"])
    wait.until(lambda d: d.find_element(By.ID, "upload").get_attribute("data-state") == "done")
    rows = driver.find_elements(By.CSS_SELECTOR, "#upload-results tbody tr")
    statuses = [row.get_attribute("data-status") for row in rows]
    expected = 1 + fixtures["zip"]["dicomEntries"] + fixtures["zip"]["otherEntries"]
    assert len(rows) == expected, f"{len(rows)} result rows, expected {expected}: {statuses}"
    assert statuses.count("stored") == 1 + fixtures["zip"]["dicomEntries"], f"statuses {statuses}"
    assert english["upload.status.stored"] in rows[0].text, f"first row reads {rows[0].text!r}"
    bar = driver.find_element(By.ID, "upload-progress").get_attribute("aria-valuenow")
    assert bar == "100", f"progress bar at {bar}"
    shot("upload-en")

    step("find it in the study browser")
    driver.get(base + "/studies")
    driver.find_element(By.ID, "search-id").send_keys(fixtures["chinese"]["patientID"])
    click_and_load(By.ID, "search-submit")
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#study-results tbody tr")))
    rows = driver.find_elements(By.CSS_SELECTOR, "#study-results tbody tr")
    assert len(rows) == 1, f"{len(rows)} rows for the patient ID"
    assert rows[0].get_attribute("data-study") == fixtures["chinese"]["studyInstanceUID"], "another study was found"
    # In English the alphabetic group, read "Family, Given" (pydicom's components, joined here).
    family, given = (fixtures["chinese"]["alphabetic"].split("^") + [""])[:2]
    assert f"{family}, {given}" in rows[0].text and "^" not in rows[0].text, f"the row reads {rows[0].text!r}"
    shot("studies-en")

    step("open the study page")
    click_and_load(By.CSS_SELECTOR, "#study-results tbody tr a.patient")
    wait.until(EC.presence_of_element_located((By.ID, "open-viewer")))
    image = driver.find_element(By.CSS_SELECTOR, ".series img")
    wait.until(lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", image))
    href = driver.find_element(By.ID, "open-viewer").get_attribute("href")
    assert href.endswith("/viewer?study=" + fixtures["chinese"]["studyInstanceUID"]), f"viewer link {href}"
    shot("study-en")

    step("switch to Chinese")
    click_and_load(By.CSS_SELECTOR, '.langswitch button[data-lang="zh-CN"]')
    wait.until(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-CN")
    labels = nav_labels()
    assert chinese["nav.studies"] in labels and chinese["nav.upload"] in labels, f"navigation reads {labels}"
    assert chinese["study.openViewer"] == driver.find_element(By.ID, "open-viewer").text, "the viewer link is not in Chinese"
    shot("study-zh")
    driver.get(base + "/studies?name=" + fixtures["chinese"]["ideographic"][0])
    assert fixtures["chinese"]["ideographic"] in driver.find_element(By.ID, "study-results").text, "no Chinese name in the results"
    shot("studies-zh")

    step("the people list of the administration pages")
    driver.get(base + "/admin/people")
    wait.until(lambda d: fixtures["username"] in d.find_element(By.ID, "admin-table").text)
    shot("people-zh")

    step("create an institution through the form")
    suffix = str(int(time.time() * 1000) % 1000000)
    code = "inst" + suffix
    driver.get(base + "/admin/institutions")
    driver.find_element(By.ID, "institution-code").send_keys(code)
    driver.find_element(By.ID, "institution-name").send_keys("县医院 " + suffix)
    choose("institution-kind", lambda o: o.get_attribute("data-kind") == "grassroots-hospital")
    driver.find_element(By.ID, "institution-create").click()
    wait.until(lambda d: code in d.find_element(By.ID, "admin-table").text)
    assert not driver.find_element(By.ID, "admin-notice").get_attribute("hidden"), "no notice after creating"
    shot("institutions-form")

    step("create a person through the form: weak password and duplicate name refused, then created")
    username = "person" + suffix
    password = "a long enough password " + suffix
    driver.get(base + "/admin/people")
    wait.until(lambda d: any(code in o.text for o in d.find_elements(By.CSS_SELECTOR, "#person-institution option")))

    def fill_person(name, secret):
        for field, value in [("person-username", name), ("person-display-name", "试用 " + suffix), ("person-password", secret)]:
            driver.find_element(By.ID, field).clear()
            driver.find_element(By.ID, field).send_keys(value)
        choose("person-institution", lambda o: code in o.text)
        box = driver.find_element(By.CSS_SELECTOR, '#person-roles input[data-role="reader"]')
        if not box.is_selected():
            box.click()
        driver.find_element(By.ID, "person-create").click()

    def shown_error():
        box = driver.find_element(By.ID, "admin-error")
        return box.text if box.is_displayed() else ""

    fill_person(username, "short")
    wait.until(lambda d: "400" in shown_error() and "password" in shown_error())
    fill_person(fixtures["username"], password)
    wait.until(lambda d: "already exists" in shown_error())
    fill_person(username, password)
    wait.until(lambda d: username in d.find_element(By.ID, "admin-table").text)
    assert not shown_error(), f"error after creating: {shown_error()}"
    row = [r for r in driver.find_elements(By.CSS_SELECTOR, "#admin-table tbody tr") if username in r.text][0]
    assert english["roles.reader"] in row.text or "reader" in row.text, f"the new row reads {row.text!r}"
    shot("people-form")

    step("sign in as the new person in a fresh browser session")
    other = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        other_wait = WebDriverWait(other, 60, ignored_exceptions=[StaleElementReferenceException, WebDriverException])
        other.get(base + "/studies")
        other_wait.until(EC.presence_of_element_located((By.ID, "login-form")))
        other.find_element(By.ID, "username").send_keys(username)
        other.find_element(By.ID, "password").send_keys(password)
        other.find_element(By.ID, "sign-in").click()
        other_wait.until(lambda d: username in (d.find_element(By.CSS_SELECTOR, ".person").get_attribute("title") or ""))
        other.save_screenshot(os.path.join(shots, "new-person-signed-in.png"))
    finally:
        other.quit()

    step("create an API token through the form, use it, revoke it through the page")
    driver.get(base + "/admin/tokens")
    wait.until(lambda d: any(o.text.startswith(username) for o in d.find_elements(By.CSS_SELECTOR, "#token-person option")))
    choose("token-person", lambda o: o.text.startswith(username))
    driver.find_element(By.ID, "token-name").send_keys("form token " + suffix)
    driver.find_element(By.ID, "token-expires").send_keys("1d")
    driver.find_element(By.ID, "token-create").click()
    wait.until(lambda d: d.find_element(By.ID, "token-secret").text.strip() != "")
    secret = driver.find_element(By.ID, "token-secret").text.strip()
    token_id = driver.find_element(By.ID, "token-secret").get_attribute("data-id")
    assert me_status(secret) == 200, "the new token is refused"
    shot("tokens-form")
    revoke = (By.CSS_SELECTOR, f'#admin-table tbody tr[data-id="{token_id}"] button.revoke')
    wait.until(EC.element_to_be_clickable(revoke))
    driver.find_element(*revoke).click()
    wait.until(lambda d: not d.find_elements(*revoke) and d.find_elements(By.CSS_SELECTOR, f'#admin-table tbody tr[data-id="{token_id}"]'))
    status = me_status(secret)
    assert status == 401, f"the revoked token answered {status}"
    shot("tokens-revoked")

    step("change the person's roles, reset the password, disable and enable the account through the form")
    driver.get(base + "/admin/people")
    wait.until(lambda d: any(o.text.startswith(username) for o in d.find_elements(By.CSS_SELECTOR, "#account-person option")))
    choose("account-person", lambda o: o.text.startswith(username))
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, '#account-roles input[data-role="reader"]').is_selected())

    def person_row():
        return [r.text for r in driver.find_elements(By.CSS_SELECTOR, "#admin-table tbody tr") if username in r.text][0]

    def account_action(button):
        driver.execute_script("document.getElementById('admin-notice').hidden = true")
        driver.find_element(By.ID, button).click()
        wait.until(lambda d: d.find_element(By.ID, "admin-notice").is_displayed() or shown_error())
        assert not shown_error(), f"{button}: {shown_error()}"

    driver.find_element(By.CSS_SELECTOR, '#account-roles input[data-role="curator"]').click()
    account_action("account-roles-save")
    wait.until(lambda d: "curator" in person_row())
    new_password = "another long password " + suffix
    driver.find_element(By.ID, "account-password").send_keys(new_password)
    account_action("account-reset")
    assert sign_in_status(username, new_password) == 200, "the reset password does not sign in"
    assert sign_in_status(username, password) == 401, "the old password still signs in"
    account_action("account-disable")
    wait.until(lambda d: chinese["admin.people.disabled"] in person_row())
    assert sign_in_status(username, new_password) == 401, "a disabled account signs in"
    account_action("account-enable")
    wait.until(lambda d: chinese["admin.people.disabled"] not in person_row())
    assert sign_in_status(username, new_password) == 200, "an enabled account does not sign in"
    shot("people-account")
    print("ok", flush=True)
except Exception as error:  # report any failure with the page it happened on
    shot("failure")
    print(f"FAILED at {driver.current_url}: {type(error).__name__}: {error}", flush=True)
    sys.exit(1)
finally:
    driver.quit()

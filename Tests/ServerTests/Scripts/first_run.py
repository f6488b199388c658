#!/usr/bin/env python3
"""A newcomer's first minutes in headless Chromium (Debian's chromium and chromium-driver) through selenium.

Usage:
  first_run.py setup BASE_URL SETUP_LINK LOCALES_DIR SCREENSHOT_DIR
      Opens the setup link of the start banner, sees a short password and two different passwords refused in the page,
      creates the administrator "chief" (English interface), lands on the sign-in page with the name filled in, signs
      in, and finds the administrator's cards on the home page; then the same link again says it is no longer valid.
  first_run.py demo BASE_URL ACCOUNTS_JSON LOCALES_DIR SCREENSHOT_DIR
      Signs in as each demo person (ACCOUNTS_JSON: {username: password}, read from the banner) in a fresh session and
      checks what the home page offers the role: the cards the role must have, none it must not, every linked card
      opens for that person; a site user's study list holds only its hospital's patients, a student sees no clinical
      study, names read as people read them (张伟 in Chinese, "Zhang, Wei" in English; never '^'), in the viewer too;
      the administrator sees the demo accounts and institutions marked as demo ones.

Every expected text comes from the locale files (LOCALES_DIR: the main files and each domain's *.en.json / *.zh-CN.json).
Prints one line per step and "ok" at the end; exits non-zero with the reason on the first failure.
"""
import json
import os
import sys
import time

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
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


def strings(directory, language):
    out = {}
    for name in sorted(os.listdir(directory)):
        if name == f"{language}.json" or name.endswith(f".{language}.json"):
            out.update(flatten(json.load(open(os.path.join(directory, name), encoding="utf-8"))))
    return out


mode = sys.argv[1]
base = sys.argv[2]
locales_dir, shots = sys.argv[4], sys.argv[5]
os.makedirs(shots, exist_ok=True)
english = strings(locales_dir, "en")
chinese = strings(locales_dir, "zh-CN")

options = webdriver.ChromeOptions()
for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1360,900", "--lang=zh-CN"]:
    options.add_argument(argument)
# Headless Chromium takes its Accept-Language from this preference, not from --lang.
options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})
options.binary_location = "/usr/bin/chromium"
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
wait = WebDriverWait(driver, 60, ignored_exceptions=[StaleElementReferenceException, WebDriverException])


def step(name):
    print("step:", name, flush=True)


def shot(name):
    driver.save_screenshot(os.path.join(shots, name + ".png"))


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def click_and_load(*locator):
    """Clicks what `locator` finds, which loads a new page, and waits until the new page is loaded."""
    old = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(*locator).click()

    def gone(_):
        try:
            old.is_enabled()
            return False
        except WebDriverException:
            return True

    wait.until(gone)
    wait.until(lambda d: d.execute_script("return document.readyState") == "complete")


def status_of(path):
    """The HTTP status of GET `path` with this browser's cookies (fetch in the page)."""
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0], {credentials: 'same-origin', redirect: 'manual'}).then(r => done(r.status)).catch(e => done(-1));",
        path,
    )


def sign_in(username, password):
    driver.delete_all_cookies()
    driver.get(base + "/login")
    wait.until(EC.presence_of_element_located((By.ID, "login-form")))
    field = driver.find_element(By.ID, "username")
    field.clear()
    field.send_keys(username)
    driver.find_element(By.ID, "password").send_keys(password)
    click_and_load(By.ID, "sign-in")
    check("/login" not in driver.current_url, f"sign-in as {username} stayed on {driver.current_url}")


def switch_language(code):
    click_and_load(By.CSS_SELECTOR, f'.langswitch button[data-lang="{code}"]')
    wait.until(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == code)


def home_cards():
    """The home page's cards: {id: linked href or None}."""
    driver.get(base + "/")
    wait.until(EC.presence_of_element_located((By.ID, "home-cards")))
    cards = {}
    for card in driver.find_elements(By.CSS_SELECTOR, "#home-cards [data-card]"):
        cards[card.get_attribute("data-card")] = card.get_attribute("href") if card.tag_name == "a" else None
    return cards


def setup_mode(link):
    step("the setup link opens the setup form")
    driver.get(link)
    wait.until(EC.presence_of_element_located((By.ID, "setup-form")))
    check(driver.find_element(By.TAG_NAME, "h1").text == chinese["setup.title"], "the setup page is not in Chinese")
    shot("setup-zh")

    def fill(username, password, confirm, language="en"):
        for field, value in [("setup-username", username), ("setup-password", password), ("setup-confirm", confirm)]:
            element = driver.find_element(By.ID, field)
            element.clear()
            element.send_keys(value)
        driver.find_element(By.CSS_SELECTOR, f'#setup-language option[data-lang="{language}"]').click()
        # The browser's own minlength check would stop a short password before the server sees it.
        driver.execute_script("document.getElementById('setup-password').removeAttribute('minlength')")
        click_and_load(By.ID, "setup-submit")

    step("a short password is refused in the page")
    fill("chief", "short", "short")
    problem = driver.find_element(By.ID, "setup-problem").text
    expected = chinese["setup.tooShort"].replace("{n}", "10")
    check(problem == expected, f"the page says {problem!r}, expected {expected!r}")

    step("two different passwords are refused in the page")
    fill("chief", "a long password 1", "a long password 2")
    check(driver.find_element(By.ID, "setup-problem").text == chinese["setup.mismatch"], "no mismatch message")
    shot("setup-refused-zh")

    step("create the administrator")
    fill("chief", "a long password 1", "a long password 1")
    wait.until(EC.presence_of_element_located((By.ID, "login-form")))
    check("/login" in driver.current_url, f"after setup the browser is at {driver.current_url}")
    check(driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en", "the chosen language is not used")
    check("chief" in driver.find_element(By.ID, "setup-done").text, "the sign-in page does not name the new administrator")
    check(driver.find_element(By.ID, "username").get_attribute("value") == "chief", "the user name is not filled in")
    shot("setup-done-en")

    step("sign in as the new administrator")
    driver.find_element(By.ID, "password").send_keys("a long password 1")
    click_and_load(By.ID, "sign-in")
    cards = home_cards()
    for card in ["studies", "upload", "admin"]:
        check(cards.get(card), f"the administrator's home lacks the {card} card: {cards}")
    check(driver.find_element(By.CSS_SELECTOR, '#role-notes li[data-role="admin"]'), "no note on the administrator's role")
    shot("home-admin-en")

    step("the used link is no longer valid")
    driver.delete_all_cookies()
    driver.get(link)
    wait.until(lambda d: d.find_elements(By.ID, "setup-invalid") or d.find_elements(By.ID, "setup-closed"))
    check(not driver.find_elements(By.ID, "setup-form"), "the spent link still offers the form")
    shot("setup-spent")


# What each role's home page must offer (cards that must be there) and must not (cards of other roles' work).
REQUIRED = {
    "demo-admin": ["studies", "upload", "admin", "indicators"],
    "demo-site": ["studies", "upload", "consultations", "education"],
    "demo-site-b": ["studies", "upload", "consultations"],
    "demo-reader": ["studies", "upload", "worklist"],
    "demo-reader2": ["studies", "upload", "worklist"],
    "demo-curator": ["studies", "upload", "exams", "teaching"],
    "demo-student": ["exams", "teaching", "practice"],
    "demo-supervisor": ["studies", "trainees"],
    "demo-health": ["health"],
    "demo-doctor": ["studies", "upload", "consultations", "health"],
}
FORBIDDEN = {
    "demo-admin": [],
    "demo-site": ["admin", "worklist", "teaching", "trainees"],
    "demo-site-b": ["admin", "worklist", "teaching", "trainees"],
    "demo-reader": ["admin", "consultations", "trainees"],
    "demo-reader2": ["admin", "consultations", "trainees"],
    "demo-curator": ["admin", "consultations", "worklist"],
    "demo-student": ["studies", "upload", "admin", "worklist", "consultations"],
    "demo-supervisor": ["admin", "upload", "consultations"],
    "demo-health": ["admin", "studies", "upload", "worklist", "consultations"],
    "demo-doctor": ["admin", "worklist", "teaching", "trainees"],
}
ROLE = {
    "demo-admin": "admin", "demo-site": "site", "demo-site-b": "site", "demo-reader": "reader", "demo-reader2": "reader",
    "demo-curator": "curator", "demo-student": "student", "demo-supervisor": "supervisor",
    "demo-health": "health-manager", "demo-doctor": "site",
}


def study_names():
    driver.get(base + "/studies")
    wait.until(EC.presence_of_element_located((By.ID, "study-search")))
    return [a.text for a in driver.find_elements(By.CSS_SELECTOR, "#study-results tbody tr a.patient")]


def demo_mode(accounts):
    check(set(accounts) == set(REQUIRED), f"the banner lists {sorted(accounts)}")
    step("the sign-in page names the demo accounts")
    driver.get(base + "/login")
    hint = driver.find_element(By.ID, "demo-hint").text
    check(all(name in hint for name in accounts), f"the sign-in page's hint reads {hint!r}")
    for username, password in accounts.items():
        step(f"sign in as {username}")
        sign_in(username, password)
        cards = home_cards()
        for card in REQUIRED[username]:
            check(card in cards, f"{username}'s home lacks the {card} card: {sorted(cards)}")
        for card in FORBIDDEN[username]:
            check(card not in cards, f"{username}'s home offers the {card} card")
        for card, href in cards.items():
            if href:
                status = status_of(href)
                check(status == 200, f"{username}'s {card} card goes to {href}, which answers {status}")
        notes = [li.get_attribute("data-role") for li in driver.find_elements(By.CSS_SELECTOR, "#role-notes li")]
        check(notes == [ROLE[username]], f"{username}'s role notes: {notes}")
        text = driver.find_element(By.ID, "home-cards").text
        check(chinese[f"home.cards.{REQUIRED[username][-1]}.title"] in text, f"{username}'s cards are not in Chinese")
        shot(f"home-{username}")
        if username == "demo-site":
            step("a site user sees only its hospital's studies, names as Chinese readers read them")
            names = study_names()
            check(sorted(names) == sorted(["张伟", "李娜", "Smith, John"]), f"demo-site's studies: {names}")
            shot("studies-demo-site-zh")
            switch_language("en")
            names = study_names()
            check(sorted(names) == sorted(["Zhang, Wei", "Li, Na", "Smith, John"]), f"demo-site's studies in English: {names}")
            shot("studies-demo-site-en")
            switch_language("zh-CN")
        if username == "demo-site-b":
            names = study_names()
            check(names == ["王芳"], f"demo-site-b's studies: {names}")
        if username == "demo-student":
            step("a student sees no clinical study")
            check(status_of("/studies") == 403, "a student may open the study browser")
            check(status_of("/dicom-web/studies") == 403, "a student may search studies over DICOMweb")
        if username == "demo-reader":
            step("the study page and the viewer show the name as people read it")
            names = study_names()
            check(len(names) == 4 and not any("^" in n for n in names), f"demo-reader's studies: {names}")
            driver.find_element(By.XPATH, "//a[@class='patient' and text()='张伟']").click()
            wait.until(EC.presence_of_element_located((By.ID, "open-viewer")))
            check(driver.find_element(By.CSS_SELECTOR, "h1.patient-title").text == "张伟", "the study page's title")
            shot("study-demo-reader-zh")
            driver.get(driver.find_element(By.ID, "open-viewer").get_attribute("href"))
            wait.until(lambda d: "张伟" in d.find_element(By.CSS_SELECTOR, ".viewport .corner.top-left").text)
            overlay = driver.find_element(By.CSS_SELECTOR, ".viewport .corner.top-left").text
            check("^" not in overlay and "Zhang" not in overlay, f"the viewer's overlay reads {overlay!r}")
            shot("viewer-demo-reader-zh")
        if username == "demo-admin":
            step("the administration pages mark the demo accounts and institutions")
            driver.get(base + "/admin/people")
            wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#admin-table tbody tr[data-demo='true']")) >= len(accounts))
            rows = driver.find_elements(By.CSS_SELECTOR, "#admin-table tbody tr[data-demo='true']")
            check(all(chinese["admin.people.demo"] in row.text for row in rows), "a demo row does not say it is a demo account")
            marked = {row.text.split()[0] for row in rows}
            check(marked == set(accounts), f"rows marked as demo: {sorted(marked)}")
            driver.execute_script("document.getElementById('admin-table').scrollIntoView()")
            shot("admin-people-demo")
            driver.get(base + "/admin/institutions")
            wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#admin-table tbody tr[data-demo='true']")) >= 4)
            codes = {row.text.split()[0] for row in driver.find_elements(By.CSS_SELECTOR, "#admin-table tbody tr[data-demo='true']")}
            check(codes == {"MEDCOLLEGE", "AFFILIATED", "COUNTY-A", "COUNTY-B"}, f"demo institutions: {sorted(codes)}")
            driver.execute_script("document.getElementById('admin-table').scrollIntoView()")
            shot("admin-institutions-demo")


try:
    if mode == "setup":
        setup_mode(sys.argv[3])
    elif mode == "demo":
        demo_mode(json.load(open(sys.argv[3], encoding="utf-8")))
    else:
        raise AssertionError(f"unknown mode {mode}")
    print("ok", flush=True)
except Exception as error:  # noqa: BLE001 - any failure ends the run with its reason
    shot("failure")
    print(driver.page_source[-2000:], file=sys.stderr)
    print(f"FAILED at {driver.current_url}: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
    sys.exit(1)
finally:
    driver.quit()

"""What the browser and API test scripts share: the locale strings, bearer-token JSON calls, a headless Chromium and
signing in through the login page. Import it from a script in this folder (its folder is on sys.path when run)."""
import json
import os
import urllib.error
import urllib.request


def flatten(node, prefix=""):
    out = {}
    for key, value in node.items():
        name = f"{prefix}.{key}" if prefix else key
        out.update(flatten(value, name) if isinstance(value, dict) else {name: value})
    return out


def locale_strings(locales_dir):
    """Every `*.en.json` / `*.zh-CN.json` (and `en.json`, `zh-CN.json`) merged and flattened, per language."""
    strings = {"en": {}, "zh-CN": {}}
    for name in sorted(os.listdir(locales_dir)):
        for language in strings:
            if name == f"{language}.json" or name.endswith(f".{language}.json"):
                strings[language].update(flatten(json.load(open(os.path.join(locales_dir, name), encoding="utf-8"))))
    return strings


def step(name):
    print("step:", name, flush=True)


class Client:
    """JSON calls as one person, with their bearer token."""

    def __init__(self, base, token):
        self.base = base
        self.token = token

    def call(self, method, path, body=None, raw=False, data=None, content_type="application/json"):
        if data is None and body is not None:
            data = json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": content_type}
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request) as response:
                payload = response.read()
                return response.status, (payload if raw else json.loads(payload or b"{}"))
        except urllib.error.HTTPError as error:
            payload = error.read()
            try:
                return error.code, json.loads(payload or b"{}")
            except ValueError:
                return error.code, {"raw": payload.decode(errors="replace")}


def browser(language="en-US"):
    from selenium import webdriver
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1360,900",
                     f"--lang={language}"]:
        options.add_argument(argument)
    options.binary_location = "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    return driver, WebDriverWait(driver, 60, ignored_exceptions=[StaleElementReferenceException, WebDriverException])


def sign_in(driver, wait, base, user, password, language="en"):
    """Signs in on the login page and switches the interface to `language`."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC

    driver.get(base + "/login")
    wait.until(EC.presence_of_element_located((By.ID, "username"))).send_keys(user)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "sign-in").click()
    wait.until(lambda d: user in (d.find_element(By.CSS_SELECTOR, ".person").get_attribute("title") or ""))
    # The language switch is a form post that reloads the page: clicked only when it changes something, and then
    # waited for until the old page is gone, so that the caller's next navigation cannot race the reload (a click on
    # the current language left a reload in flight that could land after the caller's next driver.get).
    button = driver.find_element(By.CSS_SELECTOR, f'.langswitch button[data-lang="{language}"]')
    if button.get_attribute("aria-current") != "true":
        button.click()
        wait.until(EC.staleness_of(button))
    wait.until(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == language)

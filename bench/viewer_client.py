#!/usr/bin/env python3
"""Opens Atrium's viewer on a study in headless Chromium and reports, from the page's Performance API:
the time from navigation start to the first image drawn (the viewer's `atrium-first-image` mark), the time until
every frame of the series is prefetched, and the frames per second of a requestAnimationFrame-driven scroll through
the prefetched series (one new slice rendered and painted per animation frame).

Usage: bench/viewer_client.py BASE_URL STUDY_UID N RUNS [USERNAME PASSWORD]
"""
import statistics
import sys
import time

import requests
from selenium import webdriver


def main():
    base, study, n, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900",
                     "--force-device-scale-factor=1"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path="/usr/bin/chromedriver"))
    driver.set_script_timeout(300)
    if len(sys.argv) > 6:
        # Sign in through the JSON API and hand the session cookie to the browser.
        response = requests.post(base + "/api/session", json={"username": sys.argv[5], "password": sys.argv[6]}, timeout=30)
        response.raise_for_status()
        driver.get(base + "/health")
        for cookie in response.cookies:
            driver.add_cookie({"name": cookie.name, "value": cookie.value, "path": "/"})
    first, prefetch, fps = [], [], []
    try:
        for run in range(runs):
            driver.get("about:blank")
            driver.get(base + "/viewer?study=" + study)
            while not driver.execute_script("return !!window.atriumViewer"):
                time.sleep(0.01)
            mark = driver.execute_async_script(
                "const done = arguments[arguments.length - 1];"
                "window.atriumViewer.firstImage().then(() => done(performance.getEntriesByName('atrium-first-image')[0].startTime));")
            # Polled (every 50 ms) rather than awaited, so that a slow server cannot outlast WebDriver's command timeout.
            while not driver.execute_script(
                    "const s = window.atriumViewer.state(); return s.viewports[0].count > 0 && s.cachedFrames >= s.viewports[0].count"):
                time.sleep(0.05)
            loaded = driver.execute_script("return performance.now()")
            count = driver.execute_script("return window.atriumViewer.state().viewports[0].count")
            assert count == n, "the viewer shows %d images, %d expected" % (count, n)
            scroll = driver.execute_async_script(
                "const done = arguments[arguments.length - 1]; window.atriumViewer.scrollBenchmark(%d).then(done);" % min(n, 300))
            first.append(mark)
            prefetch.append(loaded)
            fps.append(scroll["fps"])
            print("run %d: first image %.0f ms, all %d frames prefetched at %.0f ms, scrolling %.1f fps (%d frames in %.2f s)"
                  % (run + 1, mark, n, loaded, scroll["fps"], scroll["frames"], scroll["seconds"]))
    finally:
        driver.quit()
    print("median of %d runs: first image %.0f ms (best %.0f), prefetch complete %.0f ms, scrolling %.1f fps (worst %.1f)"
          % (runs, statistics.median(first), min(first), statistics.median(prefetch), statistics.median(fps), min(fps)))


if __name__ == "__main__":
    main()

"""Courses with courseware and micro-lecture videos, and the library-use indicators, against a running Atrium.

Usage: courseware_web.py BASE_URL LOCALES_DIR SCREENSHOTS_DIR SEED_JSON

The media are made here with Debian's ffmpeg (an H.264 MP4, a VP9 WebM); the PDF and the WebVTT subtitles are written
here. Range requests are checked with urllib: every 206 body is compared byte for byte with the slice of the file this
script made. In headless Chromium a teacher builds a course (text, case, PDF, video with subtitles in both languages)
and publishes it; a learner enrols, studies the case, plays the video to its end (currentTime advances, readyState >= 2,
both subtitle tracks have cues), and the course completes. The programme's library-use indicators are compared with
the case pages this script opened. Prints "ok" last.
"""
import datetime
import hashlib
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from atrium_client import Client, browser, locale_strings, sign_in, step  # noqa: E402

base, locales_dir, screenshots, seed_path = sys.argv[1:5]
seed = json.load(open(seed_path, encoding="utf-8"))
people = seed["people"]
case_id = seed["caseID"]
strings = locale_strings(locales_dir)
os.makedirs(screenshots, exist_ok=True)


def client(who):
    return Client(base, people[who][2])


def raw(who, method, path, headers=None, data=None):
    """A request with `who`'s bearer token: (status, headers, body bytes)."""
    all_headers = {"Authorization": f"Bearer {people[who][2]}"}
    all_headers.update(headers or {})
    request = urllib.request.Request(base + path, data=data, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def multipart(who, path, fields, files):
    """POST multipart/form-data: `files` maps a field to (filename, bytes, content type)."""
    boundary = "----atrium" + hashlib.sha1(os.urandom(8)).hexdigest()
    body = io.BytesIO()
    for name, value in fields.items():
        body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, content, content_type) in files.items():
        body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                   f"Content-Type: {content_type}\r\n\r\n".encode())
        body.write(content)
        body.write(b"\r\n")
    body.write(f"--{boundary}--\r\n".encode())
    status, _, payload = raw(who, "POST", path, {"Content-Type": f"multipart/form-data; boundary={boundary}"}, body.getvalue())
    try:
        return status, json.loads(payload or b"{}")
    except ValueError:
        return status, {"raw": payload.decode(errors="replace")}


# MARK: - Media made here

work = tempfile.mkdtemp(prefix="atrium-courseware-web-")


def ffmpeg(*arguments):
    run = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *arguments], capture_output=True, text=True)
    assert run.returncode == 0, f"ffmpeg (apt-get install ffmpeg, see scripts/install-deps): {run.stderr}"


source = ["-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-t", "4"]
ffmpeg(*source, "-c:v", "libx264", "-pix_fmt", "yuv420p", "-profile:v", "baseline", "-movflags", "+faststart",
       os.path.join(work, "lecture.mp4"))
ffmpeg(*source, "-c:v", "libvpx-vp9", "-b:v", "200k", os.path.join(work, "lecture.webm"))
mp4 = open(os.path.join(work, "lecture.mp4"), "rb").read()
webm = open(os.path.join(work, "lecture.webm"), "rb").read()
probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=codec_name", "-of", "csv=p=0",
                        os.path.join(work, "lecture.mp4")], capture_output=True, text=True)
assert probe.stdout.strip() == "h264", probe.stdout


def make_pdf(text):
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] >>"]
    out = b"%PDF-1.4\n"
    offsets = []
    for index, obj in enumerate(objects):
        offsets.append(len(out))
        out += f"{index + 1} 0 obj\n{obj}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n% {text}\n".encode()
    return out


pdf = make_pdf("chest film slides")
zh_vtt = "WEBVTT\n\n00:00.000 --> 00:02.000\n这是胸部平片的正位像。\n\n00:02.000 --> 00:04.000\n注意右下肺野的斑片影。\n"
en_vtt = "WEBVTT\n\n00:00.000 --> 00:02.000\nThis is a frontal chest radiograph.\n\n00:02.000 --> 00:04.000\nNote the right lower zone.\n"
for name, content in [("slides.pdf", pdf), ("zh.vtt", zh_vtt.encode()), ("en.vtt", en_vtt.encode())]:
    open(os.path.join(work, name), "wb").write(content)

# MARK: - API: who builds, what is refused

step("a teacher (curator) creates a draft course; learners do not see it; a learner cannot add modules")
teacher, learner, office = client("teacher"), client("learner"), client("office")
status, course = teacher.call("POST", "/api/ce/courses", {
    "titleChinese": "接口课程", "titleEnglish": "API course", "creditHours": 1, "cases": [], "published": False,
    "videosRequired": True})
assert status == 201, (status, course)
api_course = course["id"]
assert learner.call("GET", f"/api/ce/courses/{api_course}")[0] == 404
assert multipart("learner", f"/api/ce/courses/{api_course}/modules", {"kind": "text", "title": "x"}, {})[0] == 403
assert client("site").call("POST", "/api/ce/courses", {"titleChinese": "x", "titleEnglish": "x", "creditHours": 1, "cases": []})[0] == 403

step("files are judged by their bytes: a PDF as a video, an MP4 as courseware, SRT as WebVTT are refused")
status, body = multipart("teacher", f"/api/ce/courses/{api_course}/modules", {"kind": "video", "title": "fake"},
                         {"file": ("lecture.mp4", pdf, "video/mp4")})
assert status == 415, (status, body)
status, body = multipart("teacher", f"/api/ce/courses/{api_course}/modules", {"kind": "courseware", "title": "fake"},
                         {"file": ("slides.pdf", mp4, "application/pdf")})
assert status == 415, (status, body)
status, body = multipart("teacher", f"/api/ce/courses/{api_course}/modules", {"kind": "video", "title": "srt"},
                         {"file": ("lecture.mp4", mp4, "video/mp4"),
                          "subtitles_en": ("en.vtt", b"1\n00:00:00,000 --> 00:00:01,000\nSRT\n", "text/vtt")})
assert status == 422, (status, body)
assert teacher.call("GET", f"/api/ce/courses/{api_course}")[1]["modules"] == [], "a refused upload stores nothing"

step("an MP4 without a poster gets one from ffmpeg; a WebM is taken too")
status, video = multipart("teacher", f"/api/ce/courses/{api_course}/modules", {"kind": "video", "title": "H.264"},
                          {"file": ("lecture.mp4", mp4, "video/mp4"), "subtitles_zh": ("zh.vtt", zh_vtt.encode(), "text/vtt")})
assert status == 201, (status, video)
assert video["file"]["sha256"] == hashlib.sha256(mp4).hexdigest() and video["file"]["sizeBytes"] == len(mp4)
assert video["poster"]["contentType"] == "image/jpeg", video
status, webm_module = multipart("teacher", f"/api/ce/courses/{api_course}/modules", {"kind": "video", "title": "VP9"},
                                {"file": ("lecture.webm", webm, "video/webm")})
assert status == 201 and webm_module["file"]["contentType"] == "video/webm", (status, webm_module)
status, headers, poster = raw("teacher", "GET", video["poster"]["href"])
assert status == 200 and headers["Content-Type"] == "image/jpeg"
from PIL import Image  # noqa: E402

assert Image.open(io.BytesIO(poster)).size == (320, 240)
status, headers, vtt = raw("teacher", "GET", f"/ce/modules/{video['id']}/subtitles/zh-CN")
assert status == 200 and headers["Content-Type"].startswith("text/vtt") and vtt.decode() == zh_vtt

step("range requests: 206 bodies equal the file's slices, 416 past the end, If-Range, If-None-Match")
href = video["file"]["href"]
n = len(mp4)
status, headers, body = raw("teacher", "GET", href)
assert status == 200 and body == mp4 and headers["Accept-Ranges"] == "bytes" and int(headers["Content-Length"]) == n
etag = headers["ETag"]
assert etag and etag.startswith('"')
cases = [("bytes=0-99", 0, 100), ("bytes=100-", 100, n), ("bytes=-50", n - 50, n), (f"bytes={n - 10}-{n + 500}", n - 10, n),
         (f"bytes={n - 1}-{n - 1}", n - 1, n), ("bytes=0-0", 0, 1), (f"bytes=-{n + 100}", 0, n)]
generator = random.Random(20261206)
for _ in range(25):
    a = generator.randrange(0, n)
    b = generator.randrange(a, n)
    cases.append((f"bytes={a}-{b}", a, b + 1))
for header, start, end in cases:
    status, headers, body = raw("teacher", "GET", href, {"Range": header})
    assert status == 206, (header, status)
    assert body == mp4[start:end], f"{header}: {len(body)} bytes, not the slice [{start}:{end}]"
    assert headers["Content-Range"] == f"bytes {start}-{end - 1}/{n}", (header, headers["Content-Range"])
    assert int(headers["Content-Length"]) == end - start
for header in [f"bytes={n}-", f"bytes={n + 5}-{n + 9}", "bytes=-0"]:
    status, headers, body = raw("teacher", "GET", href, {"Range": header})
    assert status == 416 and headers["Content-Range"] == f"bytes */{n}", (header, status, headers.get("Content-Range"))
status, headers, body = raw("teacher", "GET", href, {"Range": "bytes=10-19", "If-Range": etag})
assert status == 206 and body == mp4[10:20]
status, headers, body = raw("teacher", "GET", href, {"Range": "bytes=10-19", "If-Range": '"an-older-version"'})
assert status == 200 and body == mp4, "If-Range that does not match gives the whole file"
status, headers, body = raw("teacher", "GET", href, {"If-None-Match": etag})
assert status == 304 and body == b""
# Several ranges, or another unit, are ignored (RFC 9110 allows it): the whole file.
for header in ["bytes=0-1,5-6", "items=0-1", "bytes=5-2"]:
    status, headers, body = raw("teacher", "GET", href, {"Range": header})
    assert status == 200 and body == mp4, (header, status)
status, headers, body = raw("teacher", "GET", webm_module["file"]["href"], {"Range": "bytes=4-"})
assert status == 206 and body == webm[4:] and headers["Content-Type"] == "video/webm"

step("modules move one place at a time")
status, moved = teacher.call("POST", f"/api/ce/modules/{webm_module['id']}/move", {"direction": "up"})
assert status == 200 and [m["id"] for m in moved["modules"]] == [webm_module["id"], video["id"]], moved
assert teacher.call("POST", f"/api/ce/modules/{webm_module['id']}/move", {"direction": "sideways"})[0] == 400
assert learner.call("POST", f"/api/ce/modules/{webm_module['id']}/move", {"direction": "down"})[0] == 403

step("a draft's files are not served to learners")
assert raw("learner", "GET", href)[0] == 404

# MARK: - The browser: a teacher builds a course, a learner takes it

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

en = strings["en"]
driver, wait = browser()
try:
    step("the teacher creates a draft course in the browser")
    sign_in(driver, wait, base, people["teacher"][0], people["teacher"][1], "en")
    driver.get(base + "/ce")
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#new-course summary"))).click()
    form = driver.find_element(By.CSS_SELECTOR, "#new-course form")
    form.find_element(By.NAME, "titleChinese").send_keys("胸片微课")
    form.find_element(By.NAME, "titleEnglish").send_keys("Chest film micro-lectures")
    form.find_element(By.NAME, "creditHours").send_keys("1.5")
    driver.find_element(By.ID, "ce-videos").click()
    driver.find_element(By.ID, "ce-published").click()  # a draft until its modules are in
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(EC.presence_of_element_located((By.ID, "add-module")))
    course_id = int(driver.current_url.rstrip("/").split("/")[-1])
    assert driver.find_element(By.ID, "ce-publishing").get_attribute("data-published") == "false"

    def add_module(kind, title, body=None, case=None, file=None, subtitles=()):
        count = len(driver.find_elements(By.CSS_SELECTOR, "#ce-modules > li"))
        box = driver.find_element(By.ID, "add-module-box")
        if box.get_attribute("open") is None:
            box.find_element(By.TAG_NAME, "summary").click()
        Select(driver.find_element(By.ID, "module-kind")).select_by_value(kind)
        driver.find_element(By.ID, "module-title").send_keys(title)
        if body:
            driver.find_element(By.ID, "module-body").send_keys(body)
        if case:
            driver.find_element(By.ID, "module-case").send_keys(str(case))
        if file:
            driver.find_element(By.ID, "module-file").send_keys(file)
        for field, path in subtitles:
            driver.find_element(By.ID, field).send_keys(path)
        driver.find_element(By.ID, "add-module-submit").click()
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#ce-modules > li")) == count + 1)

    step("the teacher adds a text, a case, the PDF and the video with Chinese and English subtitles")
    add_module("text", "导言 Introduction", body="本课讲解正位胸片的读片顺序。\nReading order of a frontal chest film.")
    add_module("case", "Case: pneumonia", case=case_id)
    add_module("courseware", "Slides", file=os.path.join(work, "slides.pdf"))
    add_module("video", "Micro-lecture", file=os.path.join(work, "lecture.mp4"),
               subtitles=[("module-subtitles-zh", os.path.join(work, "zh.vtt")), ("module-subtitles-en", os.path.join(work, "en.vtt"))])
    kinds = [li.get_attribute("data-kind") for li in driver.find_elements(By.CSS_SELECTOR, "#ce-modules > li")]
    assert kinds == ["text", "case", "courseware", "video"], kinds
    driver.find_element(By.CSS_SELECTOR, '#ce-modules li[data-kind="courseware"] .move-up').click()
    wait.until(lambda d: [li.get_attribute("data-kind") for li in d.find_elements(By.CSS_SELECTOR, "#ce-modules > li")]
               == ["text", "courseware", "case", "video"])
    driver.save_screenshot(os.path.join(screenshots, "courseware-teacher.png"))
    step("the teacher publishes the course")
    driver.find_element(By.ID, "publish-course").click()
    wait.until(lambda d: d.find_element(By.ID, "ce-publishing").get_attribute("data-published") == "true")
    driver.delete_all_cookies()

    step("the learner finds the course, enrols and studies the case")
    sign_in(driver, wait, base, people["learner"][0], people["learner"][1], "zh-CN")
    driver.get(base + "/ce")
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, f'#ce-courses li[data-course="{course_id}"]')))
    assert not driver.find_elements(By.CSS_SELECTOR, f'#ce-courses li[data-course="{api_course}"]'), "a draft is listed"
    driver.get(f"{base}/ce/courses/{course_id}")
    wait.until(EC.element_to_be_clickable((By.ID, "enrol"))).click()
    wait.until(lambda d: d.find_element(By.ID, "ce-progress").get_attribute("data-enrolled") == "true")
    text = driver.find_element(By.CSS_SELECTOR, '#ce-modules li[data-kind="text"] .ce-text').text
    assert "读片顺序" in text and "Reading order" in text, text
    driver.find_element(By.CSS_SELECTOR, '#ce-modules li[data-kind="case"] .mark-studied').click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, '#ce-modules li[data-kind="case"] .status')))
    assert driver.find_element(By.ID, "ce-progress").get_attribute("data-completed") == "false", "complete before the video"
    pdf_href = driver.find_element(By.CSS_SELECTOR, '#ce-modules li[data-kind="courseware"] a.ce-courseware').get_attribute("href")
    status, headers, body = raw("learner", "GET", pdf_href.replace(base, ""))
    assert status == 200 and headers["Content-Type"] == "application/pdf" and hashlib.sha256(body).digest() == hashlib.sha256(pdf).digest()

    step("the video plays in Chromium: time advances, readyState >= 2, both subtitle tracks have cues")
    video = driver.find_element(By.CSS_SELECTOR, "#ce-modules video.ce-video")
    assert video.find_element(By.TAG_NAME, "source").get_attribute("type") == "video/mp4"
    languages = sorted(t.get_attribute("srclang") for t in video.find_elements(By.TAG_NAME, "track"))
    assert languages == ["en", "zh-CN"], languages
    default = [t.get_attribute("srclang") for t in video.find_elements(By.TAG_NAME, "track") if t.get_attribute("default") is not None]
    assert default == ["zh-CN"], f"the interface language's subtitles are the default: {default}"
    driver.execute_script("""
        const v = arguments[0];
        for (const t of v.textTracks) if (t.mode === 'disabled') t.mode = 'hidden';
        v.muted = true;
        window.playError = null;
        v.play().catch(e => { window.playError = String(e); });
    """, video)
    wait.until(lambda d: d.execute_script("return arguments[0].currentTime", video) > 0.5 or d.execute_script("return window.playError"))
    assert driver.execute_script("return window.playError") is None, driver.execute_script("return window.playError")
    state = driver.execute_script("return [arguments[0].readyState, arguments[0].error && arguments[0].error.code]", video)
    assert state[0] >= 2 and state[1] is None, state
    wait.until(lambda d: d.execute_script(
        "return Array.from(arguments[0].textTracks).every(t => t.cues && t.cues.length === 2)", video))
    cues = driver.execute_script(
        "return Array.from(arguments[0].textTracks).map(t => [t.language, Array.from(t.cues).map(c => [c.startTime, c.endTime, c.text])])", video)
    by_language = dict((language, rows) for language, rows in cues)
    assert by_language["zh-CN"][1] == [2, 4, "注意右下肺野的斑片影。"], by_language
    assert by_language["en"][0] == [0, 2, "This is a frontal chest radiograph."], by_language
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", video)
    driver.save_screenshot(os.path.join(screenshots, "courseware-video.png"))
    step("played to its end, the video is recorded as watched and the course completes")
    wait.until(lambda d: d.execute_script("return arguments[0].ended", video))
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, '#ce-modules li[data-kind="video"]').get_attribute("data-watched") == "true")
    wait.until(lambda d: d.find_element(By.ID, "ce-progress").get_attribute("data-completed") == "true")
    driver.refresh()
    wait.until(EC.presence_of_element_located((By.ID, "certificate-link")))
    assert driver.find_element(By.CSS_SELECTOR, '#ce-modules li[data-kind="video"] .video-watched').text == strings["zh-CN"]["courseware.watched"]
    driver.save_screenshot(os.path.join(screenshots, "courseware-complete.png"))
    status, mine = learner.call("GET", f"/api/ce/courses/{course_id}")
    assert status == 200 and mine["enrolment"]["completedAt"] and mine["enrolment"]["certificate"], mine
    video_id = [m["id"] for m in mine["modules"] if m["kind"] == "video"][0]
    assert mine["enrolment"]["watched"] == [video_id] and mine["enrolment"]["progress"] == 1, mine["enrolment"]

    step("the learner opens the case page twice in the browser (each a recorded view)")
    views = {}
    for _ in range(2):
        driver.get(f"{base}/library/cases/{case_id}")
        wait.until(EC.presence_of_element_located((By.TAG_NAME, "h1")))
        views[people["learner"][0]] = views.get(people["learner"][0], 0) + 1
finally:
    driver.quit()

step("a second learner and the teacher open the case page over HTTP")
for who in ["learner2", "teacher"]:
    status, _, _ = raw(who, "GET", f"/library/cases/{case_id}")
    assert status == 200, (who, status)
    views[people[who][0]] = views.get(people[who][0], 0) + 1

step("the library-use indicators equal this script's own count; online courses published counts the published course")
tz = datetime.timezone(datetime.timedelta(hours=8))
year = datetime.datetime.now(tz).year
target = {"year": year, "institution": None, "indicator": "courses.published", "target": 10, "warning": 5, "owner": people["office"][0]}
assert office.call("PUT", "/api/programme/targets", target)[0] == 200
target = {"year": year, "institution": None, "indicator": "library.case-views", "target": 5000, "warning": 3000, "owner": people["office"][0]}
assert office.call("PUT", "/api/programme/targets", target)[0] == 200
status, board = office.call("GET", f"/api/programme/dashboard?year={year}")
assert status == 200, board
rows = {row["key"]: row for row in board["indicators"]}
assert rows["library.case-views"]["value"] == sum(views.values()), (rows["library.case-views"], views)
assert rows["library.distinct-students"]["value"] == len(views), (rows["library.distinct-students"], views)
assert rows["library.practice-attempts"]["value"] == 0
assert rows["courses.published"]["value"] == 1, rows["courses.published"]
assert rows["courses.published"]["target"] == 10 and rows["library.case-views"]["target"] == 5000
status, _, csv = raw("office", "GET", f"/api/programme/dashboard.csv?year={year}")
assert status == 200 and b"courses.published" in csv and b"library.case-views" in csv
status, board = office.call("GET", f"/api/programme/dashboard?year={year}&institution=COUNTY-A")
rows = {row["key"]: row for row in board["indicators"]}
county = {p: c for p, c in views.items() if p in seed["countyA"]}
assert rows["library.case-views"]["value"] == sum(county.values()), (rows["library.case-views"], county)
step("uploads, publication and the video watched are in the audit trail")
status, events = office.call("GET", "/api/admin/audit?user=cw-teacher&limit=500")
assert status == 200, events
details = [e.get("detail", "") for e in events]
assert any(f"sha256 {hashlib.sha256(mp4).hexdigest()}" in d and "video module" in d for d in details), details
assert any(d == f"course {course_id} published" for d in details), details
status, events = office.call("GET", "/api/admin/audit?user=cw-learner&limit=500")
assert any(f"video module {video_id} watched" in e.get("detail", "") for e in events), [e.get("detail") for e in events]
print("ok")

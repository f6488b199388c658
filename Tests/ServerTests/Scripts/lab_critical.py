#!/usr/bin/env python3
"""Laboratory critical values on the critical-result path, end to end: ORU^R01 messages built by hl7apy go over MLLP (and
one FHIR bundle over HTTP); which values are critical is computed here from limits written in this script (a value
beyond every commonly published potassium critical limit, 2.5 and 6.5 mmol/L, counts; one inside the normal interval
does not); the laboratory's critical list, the consultation's critical results, the site's notifications and the
acknowledgements are read back through the JSON API. Then the /lab page in headless Chromium lists the values and the
reader acknowledges one with its button.

    python3 lab_critical.py BASE MLLP_PORT FACILITY SEED_JSON SCREENSHOT_DIR
SEED_JSON: {"admin": token, "site": token, "siteB": token, "reader": token, "readerLogin": [user, password],
            "siteUser": username, "readerUser": username}

Prints a JSON report {"checks": [[name, ok, detail], ...]}.
"""
import json
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "LaboratoryTests", "Scripts"))
from atrium_client import Client, browser, sign_in  # noqa: E402
from oru_messages import oru  # noqa: E402

from hl7apy.parser import parse_message  # noqa: E402

base, mllp_port, facility, seed_path, shots = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
seed = json.load(open(seed_path, encoding="utf-8"))
admin, site, site_b, reader = (Client(base, seed[k]) for k in ("admin", "site", "siteB", "reader"))
checks = []

# Limits written here, not read from Atrium: beyond these a potassium is critical on every published list we know.
K_CRITICAL_LOW, K_CRITICAL_HIGH = 2.5, 6.5


def check(name, ok, detail=""):
    checks.append([name, bool(ok), str(detail)[:600]])


def critical(value):
    return value < K_CRITICAL_LOW or value > K_CRITICAL_HIGH


def send_potassium(control, patient_id, value):
    """One ORU^R01 with one potassium result for a patient; returns MSA-1 of the ACK hl7apy parses."""
    patient = {"id": patient_id, "authority": "COUNTY-A", "family": "测", "given": "试", "birth": "19700101", "sex": "M"}
    orders = [{"placer": "P-" + control, "filler": "F-" + control, "service": "24326-1", "service_text": "Electrolytes",
               "time": "20261205080000+0800",
               "observations": [{"type": "NM", "code": "2823-3", "text": "Potassium", "system": "LN", "value_er7": str(value),
                                 "units": "mmol/L", "status": "F"}]}]
    payload = oru(control, facility, patient, orders).encode("utf-8")
    with socket.create_connection(("127.0.0.1", mllp_port), timeout=30) as s:
        s.sendall(b"\x0b" + payload + b"\x1c\x0d")
        data = b""
        while not data.endswith(b"\x1c\x0d"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    message = parse_message(data[1:-2].decode("utf-8"), find_groups=False)
    return message.msa.msa_1.value


def values_of(client, patient_id):
    status, body = client.call("GET", "/api/lab/critical-values")
    assert status == 200, (status, body)
    return [v for v in body if v["patientID"] == patient_id]


def set_of(patient_id):
    status, body = site.call("GET", "/api/lab/result-sets?patient=" + patient_id)
    assert status == 200, body
    return body


# 1. Normal and critical results with no open consultation: only the critical one is listed, unrouted.
ack = send_potassium("CV-N1", "PC-0", 4.2)
check("a normal potassium is accepted (AA)", ack == "AA", ack)
check("a potassium inside the interval is not listed", values_of(reader, "PC-0") == [] and not critical(4.2), values_of(reader, "PC-0"))
ack = send_potassium("CV-H1", "PC-1", 6.8)
check("a critical potassium is accepted (AA)", ack == "AA", ack)
listed = values_of(reader, "PC-1")
check("6.8 mmol/L is listed for the laboratory staff, HH, on no consultation",
      critical(6.8) and len(listed) == 1 and listed[0]["flag"] == "HH" and float(listed[0]["value"]) == 6.8
      and listed[0]["request"] is None and listed[0]["analyte"] == "Potassium", listed)
check("another institution's site does not see it", values_of(site_b, "PC-1") == [], values_of(site_b, "PC-1"))
check("the sending site sees its own critical value", len(values_of(site, "PC-1")) == 1)
status, body = reader.call("POST", "/api/lab/critical-values/%s/acknowledge" % listed[0]["id"], {})
check("the laboratory reader acknowledges it", status == 200 and body.get("acknowledgedBy") == seed["readerUser"], (status, body))
status, body = reader.call("POST", "/api/lab/critical-values/%s/acknowledge" % listed[0]["id"], {})
check("a second acknowledgement is refused (409)", status == 409, (status, body))
status, body = site_b.call("POST", "/api/lab/critical-values/%s/acknowledge" % listed[0]["id"], {})
check("another institution's site cannot acknowledge it (404)", status == 404, (status, body))
status, open_values = reader.call("GET", "/api/lab/critical-values?open=1")
check("acknowledged values leave the open list", all(v["id"] != listed[0]["id"] for v in open_values), open_values)

# 2. A critical result for a patient with an open laboratory consultation follows the consultation's critical path.
ack = send_potassium("CV-N2", "PC-2", 4.0)
first = set_of("PC-2")
status, filed = site.call("POST", "/api/lab/result-sets/%s/consultation" % first[0]["id"],
                          {"priority": "urgent", "question": "Potassium trend?"})
check("the site files a laboratory consultation on the normal result", status == 201, (status, filed))
request_id = filed.get("id")
status, described = site.call("GET", "/api/consultations/%s" % request_id)
check("a consultation on a normal result has no critical result", described.get("criticalResults") == [], described)
ack = send_potassium("CV-L2", "PC-2", 2.1)
check("the follow-up critical potassium is accepted (AA)", ack == "AA" and critical(2.1), ack)
status, described = site.call("GET", "/api/consultations/%s" % request_id)
results = described.get("criticalResults", [])
check("the open consultation got one critical result naming potassium 2.1 and LL",
      len(results) == 1 and "Potassium" in results[0]["finding"] and "2.1" in results[0]["finding"] and "LL" in results[0]["finding"]
      and results[0]["acknowledgedBy"] is None, results)
listed = values_of(reader, "PC-2")
check("the laboratory list shows it routed to the consultation", len(listed) == 1 and listed[0]["request"] == request_id
      and listed[0]["criticalResult"] == (results[0]["id"] if results else None), listed)
status, notices = site.call("GET", "/api/notifications")
check("the site is notified of the critical result", any(n["kind"] == "critical" and n["requestID"] == request_id for n in notices),
      notices)
status, body = reader.call("POST", "/api/lab/critical-values/%s/acknowledge" % listed[0]["id"], {})
check("a routed value is not acknowledged on the laboratory list (409)", status == 409, (status, body))
status, body = reader.call("POST", "/api/critical/%s/acknowledge" % results[0]["id"], {})
check("the reader cannot acknowledge on the site's behalf (403)", status == 403, (status, body))
status, body = site.call("POST", "/api/critical/%s/acknowledge" % results[0]["id"], {})
check("the site acknowledges the consultation's critical result", status == 200, (status, body))
listed = values_of(reader, "PC-2")
check("the laboratory list shows the site's acknowledgement", listed and listed[0]["acknowledgedBy"] == seed["siteUser"], listed)

# 3. A FHIR bundle with a critical value; a consultation filed on it afterwards takes it onto its critical path.
bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
    {"resource": {"resourceType": "Patient", "identifier": [{"value": "PC-3"}], "gender": "female", "birthDate": "1980-02-02"}},
    {"resource": {"resourceType": "Observation", "status": "final",
                  "code": {"coding": [{"system": "http://loinc.org", "code": "2823-3", "display": "Potassium"}]},
                  "effectiveDateTime": "2026-12-05T09:00:00+08:00",
                  "valueQuantity": {"value": 7.4, "unit": "mmol/L", "system": "http://unitsofmeasure.org", "code": "mmol/L"}}}]}
status, body = site.call("POST", "/fhir/r4", bundle)
check("the FHIR bundle is stored", status == 201, (status, body))
listed = values_of(reader, "PC-3")
check("its potassium 7.4 is listed, HH, unrouted", critical(7.4) and len(listed) == 1 and listed[0]["flag"] == "HH"
      and listed[0]["request"] is None, listed)
fhir_set = (body.get("resultSets") or [""])[0]
status, filed = site.call("POST", "/api/lab/result-sets/%s/consultation" % fhir_set, {"priority": "stat", "question": "K?"})
status, described = site.call("GET", "/api/consultations/%s" % filed.get("id"))
results = described.get("criticalResults", [])
check("the consultation filed on it carries the critical result at once", len(results) == 1 and "7.4" in results[0]["finding"],
      results)
check("the critical value is now routed", values_of(reader, "PC-3")[0]["request"] == filed.get("id"), values_of(reader, "PC-3"))

# 4. The page: the reader sees the list and acknowledges a new value with the button.
ack = send_potassium("CV-H4", "PC-4", 6.9)
new_id = values_of(reader, "PC-4")[0]["id"]
driver, wait = browser()
try:
    from selenium.webdriver.common.by import By
    user, password = seed["readerLogin"]
    sign_in(driver, wait, base, user, password)
    driver.get(base + "/lab")
    wait.until(lambda d: d.find_element(By.ID, "lab-critical-values"))
    row = driver.find_element(By.CSS_SELECTOR, 'tr[data-critical="%s"]' % new_id)
    check("the /lab page lists the value with its limit", "6.9" in row.text and "HH" in row.text, row.text)
    driver.save_screenshot(os.path.join(shots, "lab-critical-values.png"))
    row.find_element(By.CSS_SELECTOR, "button.lab-critical-ack").click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, 'tr[data-critical="%s"] .lab-critical-acknowledged' % new_id))
    check("the button acknowledges it", values_of(reader, "PC-4")[0]["acknowledgedBy"] == user, values_of(reader, "PC-4"))
finally:
    driver.quit()

print(json.dumps({"checks": checks}, ensure_ascii=False))

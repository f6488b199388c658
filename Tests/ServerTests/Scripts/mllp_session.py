"""An HL7 v2 session against Atrium's MLLP listener: ORU^R01 messages built by hl7apy go over a plain socket with MLLP
framing; every ACK is parsed by hl7apy; the results are then read back through the JSON API.

    python3 mllp_session.py HOST MLLP_PORT BASE_URL MAX_BYTES     (ATRIUM_TOKEN: an administrator's API token)

Prints a JSON report {"checks": [[name, ok, detail], ...]}.
"""
import json
import os
import socket
import sys
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "LaboratoryTests", "Scripts"))
from oru_messages import ORDERS, PATIENT, oru  # noqa: E402

from hl7apy.parser import parse_message  # noqa: E402

host, port, base, max_bytes = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
token = os.environ["ATRIUM_TOKEN"]
checks = []


def check(name, ok, detail=""):
    checks.append([name, bool(ok), str(detail)])


def send(payload):
    """Sends one framed message and returns the ACK's bytes (without framing)."""
    with socket.create_connection((host, port), timeout=30) as s:
        s.sendall(b"\x0b" + payload + b"\x1c\x0d")
        data = b""
        while not data.endswith(b"\x1c\x0d"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    assert data.startswith(b"\x0b"), data[:20]
    return data[1:-2]


def ack(payload):
    raw = send(payload)
    message = parse_message(raw.decode("utf-8"), find_groups=False)
    err = message.err if "ERR" in [s.name for s in message.children] else None
    return {
        "code": message.msa.msa_1.value, "control": message.msa.msa_2.value,
        "location": err.err_2.value if err is not None else "", "condition": err.err_3.err_3_1.value if err is not None else "",
        "severity": err.err_4.value if err is not None else "", "reason": err.err_8.value if err is not None else "",
        "type": message.msh.msh_9.value,
    }


def api(path):
    request = urllib.request.Request(base + path, headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read().decode("utf-8"))


def count():
    return len(api("/api/lab/result-sets"))


# 1. A valid ORU^R01 in UTF-8 with a Chinese name.
a = ack(oru("S-UTF8", "COUNTY-A-LAB", PATIENT, ORDERS).encode("utf-8"))
check("UTF-8 ORU^R01 accepted (AA) naming its control ID", a["code"] == "AA" and a["control"] == "S-UTF8", a)
check("the ACK is an ACK^R01", a["type"].startswith("ACK"), a["type"])
sets = api("/api/lab/result-sets?patient=P001")
check("two result sets (one per OBR) are queryable", len(sets) == 2, len(sets))
names = {s["patient"]["name"] for s in sets}
check("the Chinese name arrived intact (UTF-8)", names == {PATIENT["family"] + PATIENT["given"]}, names)
detail = api("/api/lab/result-sets/" + [s for s in sets if s["order"]["placerNumber"] == "PL-1"][0]["id"])
potassium = [o for o in detail["observations"] if o["code"] == "2823-3"][0]
check("potassium 6.8 is flagged critical (HH)", potassium["flag"] == "HH" and potassium["critical"], potassium)
glucose = [o for o in detail["observations"] if o["code"] == "2345-7"][0]
check("glucose 126 mg/dL is converted to mmol/L", abs(glucose["canonicalValue"] - 126 * 10 / 180.16) < 1e-6
      and glucose["canonicalUnit"] == "mmol/L" and glucose["units"] == "mg/dL", glucose)
remark = [o for o in detail["observations"] if o["code"] == "X-NOTE"][0]
check("escape sequences are decoded", remark["value"] == "A^B|C\\D&E~F", remark["value"])

# 2. The same in GB 18030.
patient_gb = dict(PATIENT, id="P002", family="欧阳", given="娜娜")
a = ack(oru("S-GB", "COUNTY-A-LAB", patient_gb, ORDERS[1:], charset="GB 18030-2000").encode("gb18030"))
check("GB 18030 ORU^R01 accepted", a["code"] == "AA", a)
sets = api("/api/lab/result-sets?patient=P002")
check("the Chinese name arrived intact (GB 18030)", [s["patient"]["name"] for s in sets] == ["欧阳娜娜"], sets)

before = count()
# 3. Malformed messages: a NAK with the reason, nothing stored.
cases = [
    ("missing MSH", b"PID|1||X^^^A^MR||A^B\rOBR|1|P|F|X|||20261201\r", "AR", "MSH"),
    ("bad encoding characters", b"MSH|^~\\^|LIS|COUNTY-A-LAB|||20261201||ORU^R01|S-BAD|P|2.5\r", "AR", "MSH"),
]
for name, payload, code, segment in cases:
    raw = send(payload)
    text = raw.decode("utf-8")
    message = parse_message(text, find_groups=False)
    err = message.err
    check("%s: NAK %s" % (name, code), message.msa.msa_1.value == code, text)
    check("%s: ERR-2 names %s and ERR-8 says why" % (name, segment), err.err_2.value.startswith(segment) and err.err_8.value, text)

bad_nm = oru("S-NM", "COUNTY-A-LAB", PATIENT, [dict(ORDERS[1], observations=[dict(ORDERS[1]["observations"][0], value_er7="abc")])])
a = ack(bad_nm.encode("utf-8"))
check("OBX NM value 'abc': AE", a["code"] == "AE" and a["control"] == "S-NM", a)
check("OBX NM value 'abc': ERR-2 OBX-5, ERR-3 102, severity E", a["location"] == "OBX^1^5" and a["condition"] == "102"
      and a["severity"] == "E" and "not a number" in a["reason"], a)
a = ack(oru("S-FAC", "UNKNOWN-LAB", PATIENT, ORDERS[1:]).encode("utf-8"))
check("unknown facility: AR with ERR-2 MSH-4 and condition 204", a["code"] == "AR" and a["location"] == "MSH^1^4"
      and a["condition"] == "204", a)
big = oru("S-BIG", "COUNTY-A-LAB", PATIENT, [dict(ORDERS[1], observations=[
    dict(ORDERS[1]["observations"][0], type="TX", value_er7="x" * (max_bytes + 10), units="", range="", flags="")])])
a = ack(big.encode("utf-8"))
check("oversized: AR naming the control ID and the limit", a["code"] == "AR" and a["control"] == "S-BIG" and str(max_bytes) in a["reason"], a)
check("nothing stored by the malformed messages", count() == before, (before, count()))

# 4. Two messages on one connection, each acknowledged in turn.
with socket.create_connection((host, port), timeout=30) as s:
    for control in ("S-K1", "S-K2"):
        s.sendall(b"\x0b" + oru(control, "COUNTY-A-LAB", dict(PATIENT, id="P003"), ORDERS[1:]).encode("utf-8") + b"\x1c\x0d")
        data = b""
        while not data.endswith(b"\x1c\x0d"):
            data += s.recv(65536)
        m = parse_message(data[1:-2].decode("utf-8"), find_groups=False)
        check("keep-alive connection: %s acknowledged" % control, m.msa.msa_1.value == "AA" and m.msa.msa_2.value == control, m.msa.value)
check("both messages of the connection stored", len(api("/api/lab/result-sets?patient=P003")) == 2)

print(json.dumps({"checks": checks}, ensure_ascii=False))

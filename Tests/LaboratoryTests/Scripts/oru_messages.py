"""ORU^R01 messages built with hl7apy (a library nobody here wrote), with the values they carry written down before
encoding, for Atrium's HL7 v2 parser and MLLP listener to be checked against.

    python3 oru_messages.py OUTDIR      writes OUTDIR/NAME.hl7 and OUTDIR/expected.json
"""
import json
import os
import sys

from hl7apy.core import Message

ESCAPED_TEXT = r"A\S\B\F\C\E\D\T\E\R\F"
UNESCAPED_TEXT = "A^B|C\\D&E~F"


def oru(control_id, facility, patient, orders, charset="UNICODE UTF-8", version="2.5"):
    """An ORU^R01 from plain values: patient = dict(id, authority, family, given, birth, sex); orders = list of dict(placer,
    filler, service, service_text, time, observations=[dict(type, code, text, system, value_er7, units, range, flags,
    status, time)])."""
    m = Message("ORU_R01", version=version)
    m.msh.msh_3 = "LIS"
    m.msh.msh_4 = facility
    m.msh.msh_7 = "20261206101500+0800"
    m.msh.msh_9 = "ORU^R01^ORU_R01"
    m.msh.msh_10 = control_id
    m.msh.msh_11 = "P"
    if charset:
        m.msh.msh_18 = charset
    result = m.add_group("ORU_R01_PATIENT_RESULT")
    pat = result.add_group("ORU_R01_PATIENT")
    pat.pid.pid_1 = "1"
    pat.pid.pid_3 = "%s^^^%s^MR" % (patient["id"], patient["authority"])
    pat.pid.pid_5 = "%s^%s" % (patient["family"], patient["given"])
    pat.pid.pid_7 = patient["birth"]
    pat.pid.pid_8 = patient["sex"]
    for order in orders:
        group = result.add_group("ORU_R01_ORDER_OBSERVATION")
        group.obr.obr_1 = "1"
        group.obr.obr_2 = order["placer"]
        group.obr.obr_3 = order["filler"]
        group.obr.obr_4 = "%s^%s^LN" % (order["service"], order["service_text"])
        group.obr.obr_7 = order["time"]
        for index, o in enumerate(order["observations"]):
            obs = group.add_group("ORU_R01_OBSERVATION")
            obs.obx.obx_1 = str(index + 1)
            obs.obx.obx_2 = o["type"]
            obs.obx.obx_3 = "%s^%s^%s" % (o["code"], o["text"], o["system"])
            obs.obx.obx_5 = o["value_er7"]
            if o.get("units"):
                obs.obx.obx_6 = o["units"]
            if o.get("range"):
                obs.obx.obx_7 = o["range"]
            if o.get("flags"):
                obs.obx.obx_8 = o["flags"]
            obs.obx.obx_11 = o.get("status", "F")
            if o.get("time"):
                obs.obx.obx_14 = o["time"]
    return m.to_er7()


PATIENT = {"id": "P001", "authority": "COUNTY-A", "family": "张", "given": "三丰", "birth": "19580312", "sex": "F"}

ORDERS = [
    {
        "placer": "PL-1", "filler": "FL-1", "service": "24323-8", "service_text": "Comprehensive metabolic panel",
        "time": "20261201083000+0800",
        "observations": [
            {"type": "NM", "code": "2823-3", "text": "Potassium", "system": "LN", "value_er7": "6.8", "units": "mmol/L",
             "range": "3.5-5.3", "flags": "HH", "status": "F", "time": "20261201090000+0800",
             "expect": {"value": "6.8", "numeric": 6.8}},
            {"type": "NM", "code": "2345-7", "text": "Glucose", "system": "LN", "value_er7": "126", "units": "mg/dL",
             "range": "70-100", "flags": "H", "status": "F", "expect": {"value": "126", "numeric": 126.0}},
            {"type": "ST", "code": "X-NOTE", "text": "Remark", "system": "L", "value_er7": ESCAPED_TEXT, "status": "F",
             "expect": {"value": UNESCAPED_TEXT, "numeric": None}},
            {"type": "CE", "code": "5778-6", "text": "Color of Urine", "system": "LN", "value_er7": "Y^Yellow^L", "status": "F",
             "expect": {"value": "Yellow", "numeric": None}},
            {"type": "SN", "code": "1988-5", "text": "CRP", "system": "LN", "value_er7": "<^0.5", "units": "mg/L", "status": "P",
             "expect": {"value": "<0.5", "numeric": 0.5}},
            {"type": "TX", "code": "X-TX", "text": "Interpretation", "system": "L", "value_er7": "第一行~第二行", "status": "F",
             "expect": {"value": "第一行~第二行", "numeric": None}},
        ],
    },
    {
        "placer": "PL-2", "filler": "FL-2", "service": "58410-2", "service_text": "CBC panel", "time": "20261201083500+0800",
        "observations": [
            {"type": "NM", "code": "718-7", "text": "Hemoglobin", "system": "LN", "value_er7": "98", "units": "g/L",
             "range": "115-150", "flags": "L", "status": "F", "expect": {"value": "98", "numeric": 98.0}},
            {"type": "NM", "code": "6690-2", "text": "WBC", "system": "LN", "value_er7": "7.2", "units": r"10\S\9/L", "units_expect": "10^9/L",
             "range": "3.5-9.5", "status": "F", "expect": {"value": "7.2", "numeric": 7.2}},
        ],
    },
]


def expected(control_id, facility, patient, orders):
    return {
        "controlID": control_id, "facility": facility,
        "patient": {"id": patient["id"], "authority": patient["authority"], "family": patient["family"], "given": patient["given"],
                    "birthDate": "%s-%s-%s" % (patient["birth"][:4], patient["birth"][4:6], patient["birth"][6:8]), "sex": patient["sex"]},
        "orders": [
            {"placer": o["placer"], "filler": o["filler"], "service": o["service"], "serviceText": o["service_text"],
             "observations": [
                 {"type": x["type"], "code": x["code"], "text": x["text"], "system": x["system"], "value": x["expect"]["value"],
                  "numeric": x["expect"]["numeric"], "units": x.get("units_expect", x.get("units", "")), "range": x.get("range", ""),
                  "flags": [x["flags"]] if x.get("flags") else [], "status": x.get("status", "F")}
                 for x in o["observations"]]}
            for o in orders],
    }


def translate(er7, delimiters):
    """The same message with other delimiters (field, component, repetition, escape, subcomponent)."""
    table = str.maketrans("|^~\\&", delimiters)
    return er7.translate(table)


def main(out):
    os.makedirs(out, exist_ok=True)
    cases = {}
    utf8 = oru("MSG-UTF8", "COUNTY-A-LAB", PATIENT, ORDERS)
    cases["utf8"] = (utf8.encode("utf-8"), expected("MSG-UTF8", "COUNTY-A-LAB", PATIENT, ORDERS))
    gb = oru("MSG-GB", "COUNTY-A-LAB", PATIENT, ORDERS, charset="GB 18030-2000")
    cases["gb18030"] = (gb.encode("gb18030"), expected("MSG-GB", "COUNTY-A-LAB", PATIENT, ORDERS))
    lf = oru("MSG-LF", "COUNTY-A-LAB", PATIENT, ORDERS)
    cases["lf"] = (lf.replace("\r", "\n").encode("utf-8"), expected("MSG-LF", "COUNTY-A-LAB", PATIENT, ORDERS))
    cases["crlf"] = (oru("MSG-CRLF", "COUNTY-A-LAB", PATIENT, ORDERS).replace("\r", "\r\n").encode("utf-8"),
                     expected("MSG-CRLF", "COUNTY-A-LAB", PATIENT, ORDERS))
    # Other delimiters: only the second order, which has no escape sequences.
    plain = oru("MSG-DELIM", "COUNTY-A-LAB", PATIENT, ORDERS[1:])
    delimited = expected("MSG-DELIM", "COUNTY-A-LAB", PATIENT, ORDERS[1:])
    # \S\ stands for the message's own component separator (HL7 v2.5 2.7.1): "@" in this message.
    for o in delimited["orders"][0]["observations"]:
        o["units"] = o["units"].replace("^", "@")
    cases["delimiters"] = (translate(plain, "!@#$%").encode("utf-8"), delimited)
    for name, (data, exp) in cases.items():
        with open(os.path.join(out, name + ".hl7"), "wb") as f:
            f.write(data)
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump({name: exp for name, (_, exp) in cases.items()}, f, ensure_ascii=False)


if __name__ == "__main__":
    main(sys.argv[1])

"""FHIR R4 checks with fhir.resources (its R4B models: version 8 of the package defaults to R5).

    python3 fhir_check.py make OUT.json          writes a transaction Bundle built with fhir.resources, and OUT.json.expected
    python3 fhir_check.py validate BUNDLE.json   validates an exported Bundle and prints what it says as JSON
"""
import json
import sys

from fhir.resources.R4B.bundle import Bundle


def make(out):
    patient = {"resourceType": "Patient", "id": "pat1", "identifier": [{"system": "urn:oid:1.2.156.1", "value": "F-9001"}],
               "name": [{"family": "李", "given": ["小红"]}], "gender": "female", "birthDate": "1990-05-04"}
    potassium = {"resourceType": "Observation", "id": "obs-k", "status": "final",
                 "code": {"coding": [{"system": "http://loinc.org", "code": "2823-3", "display": "Potassium"}]},
                 "subject": {"reference": "Patient/pat1"}, "effectiveDateTime": "2026-12-02T08:00:00+08:00",
                 "valueQuantity": {"value": 2.5, "unit": "mmol/L", "system": "http://unitsofmeasure.org", "code": "mmol/L"},
                 "referenceRange": [{"low": {"value": 3.5, "unit": "mmol/L"}, "high": {"value": 5.3, "unit": "mmol/L"}}],
                 "interpretation": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": "LL"}]}]}
    creatinine = {"resourceType": "Observation", "id": "obs-cr", "status": "final",
                  "code": {"coding": [{"system": "http://loinc.org", "code": "2160-0", "display": "Creatinine"}]},
                  "subject": {"reference": "Patient/pat1"}, "effectiveDateTime": "2026-12-02T08:00:00+08:00",
                  "valueQuantity": {"value": 1.2, "unit": "mg/dL", "system": "http://unitsofmeasure.org", "code": "mg/dL"}}
    report = {"resourceType": "DiagnosticReport", "id": "rep1", "status": "final",
              "identifier": [{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "PLAC"}]}, "value": "ORD-77"}],
              "code": {"coding": [{"system": "http://loinc.org", "code": "24323-8", "display": "Metabolic panel"}]},
              "subject": {"reference": "Patient/pat1"}, "effectiveDateTime": "2026-12-02T08:00:00+08:00",
              "result": [{"reference": "Observation/obs-k"}, {"reference": "Observation/obs-cr"}]}
    entries = []
    for r in (patient, potassium, creatinine, report):
        entries.append({"fullUrl": "http://lab.example/fhir/%s/%s" % (r["resourceType"], r["id"]), "resource": r,
                        "request": {"method": "PUT", "url": "%s/%s" % (r["resourceType"], r["id"])}})
    bundle = Bundle.model_validate({"resourceType": "Bundle", "type": "transaction", "entry": entries})
    with open(out, "w") as f:
        f.write(bundle.model_dump_json())
    with open(out + ".expected", "w") as f:
        json.dump({"patient": {"id": "F-9001", "family": "李", "given": "小红", "birthDate": "1990-05-04", "sex": "F"},
                   "placer": "ORD-77", "service": "24323-8",
                   "observations": [{"code": "2823-3", "numeric": 2.5, "units": "mmol/L", "flags": ["LL"]},
                                    {"code": "2160-0", "numeric": 1.2, "units": "mg/dL", "flags": []}]}, f, ensure_ascii=False)


def validate(path):
    with open(path) as f:
        bundle = Bundle.model_validate_json(f.read())
    out = {"type": bundle.type, "observations": [], "patients": [], "reports": []}
    for entry in bundle.entry or []:
        r = entry.resource
        kind = r.__resource_type__ if hasattr(r, "__resource_type__") else type(r).__name__
        if kind == "Observation":
            q = r.valueQuantity
            out["observations"].append({
                "code": r.code.coding[0].code, "system": r.code.coding[0].system,
                "value": float(q.value) if q is not None else None, "ucum": q.code if q is not None else None,
                "interpretation": r.interpretation[0].coding[0].code if r.interpretation else None,
                "low": float(r.referenceRange[0].low.value) if r.referenceRange and r.referenceRange[0].low else None,
                "high": float(r.referenceRange[0].high.value) if r.referenceRange and r.referenceRange[0].high else None})
        elif kind == "Patient":
            out["patients"].append({"id": r.identifier[0].value, "family": r.name[0].family, "gender": r.gender,
                                    "birthDate": str(r.birthDate) if r.birthDate else None})
        elif kind == "DiagnosticReport":
            out["reports"].append({"results": len(r.result or []), "status": r.status})
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    {"make": make, "validate": validate}[sys.argv[1]](sys.argv[2])

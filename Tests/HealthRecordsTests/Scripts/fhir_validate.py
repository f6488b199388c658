#!/usr/bin/env python3
"""Validates a FHIR bundle with fhir.resources (R4B models, pydantic) and summarises it.

Usage: fhir_validate.py BUNDLE_JSON
Prints {"resources": {type: count}, "loinc": [codes of Observations and their components], "units": {code: unit},
"conditions": [SNOMED codes], "patient": {"gender", "birthDate", "name"}, "carePlanActivities": n}.
Exits 1 with the validation error when a resource does not validate.
"""
import json
import sys

try:
    from fhir.resources.R4B.bundle import Bundle
except ImportError:
    sys.stderr.write("fhir.resources is missing: pip install fhir.resources (scripts/install-deps)\n")
    sys.exit(2)

raw = json.load(open(sys.argv[1]))
try:
    bundle = Bundle.model_validate(raw) if hasattr(Bundle, "model_validate") else Bundle.parse_obj(raw)
except Exception as error:  # pydantic.ValidationError, with every failing field
    sys.stderr.write(str(error))
    sys.exit(1)

summary = {"resources": {}, "loinc": [], "units": {}, "conditions": [], "patient": {}, "carePlanActivities": 0}
for entry in bundle.entry or []:
    resource = entry.resource
    kind = resource.__resource_type__ if hasattr(resource, "__resource_type__") else type(resource).__name__
    summary["resources"][kind] = summary["resources"].get(kind, 0) + 1
    if kind == "Observation":
        for coding in resource.code.coding:
            if coding.system == "http://loinc.org":
                summary["loinc"].append(coding.code)
                if resource.valueQuantity is not None:
                    summary["units"][coding.code] = resource.valueQuantity.code
        for component in resource.component or []:
            for coding in component.code.coding:
                summary["loinc"].append(coding.code)
                summary["units"][coding.code] = component.valueQuantity.code
    elif kind == "Condition":
        summary["conditions"] += [c.code for c in resource.code.coding if c.system == "http://snomed.info/sct"]
    elif kind == "Patient":
        summary["patient"] = {"gender": resource.gender, "birthDate": str(resource.birthDate),
                              "name": resource.name[0].text if resource.name else None}
    elif kind == "CarePlan":
        summary["carePlanActivities"] = len(resource.activity or [])
print(json.dumps(summary))

#!/usr/bin/env python3
"""Reads the report documents Atrium made, with software nobody here wrote, and prints what they say as JSON.

Usage: read_documents.py SR_FILE KOS_FILE FHIR_JSON

- The SR and the KOS through pydicom: header attributes, the content tree as (relationship, value type, concept code,
  text) rows, references; the FHIR Bundle validated with fhir.resources' R4B models (pydantic) and its references
  resolved between entries. Exits non-zero with the reason when a document does not parse or validate.
"""
import base64
import json
import sys

import pydicom
from fhir.resources.R4B.bundle import Bundle

sr_path, kos_path, fhir_path = sys.argv[1:4]


def tree(items, depth=0):
    rows = []
    for item in items:
        name = item.ConceptNameCodeSequence[0] if "ConceptNameCodeSequence" in item else None
        row = {
            "depth": depth,
            "relationship": item.get("RelationshipType", ""),
            "type": item.ValueType,
            "concept": f"{name.CodeValue}^{name.CodingSchemeDesignator}" if name else "",
        }
        if item.ValueType == "TEXT":
            row["text"] = item.TextValue
        if item.ValueType == "PNAME":
            row["text"] = str(item.PersonName)
        if item.ValueType == "CODE":
            row["text"] = item.ConceptCodeSequence[0].CodeValue
        if item.ValueType == "IMAGE":
            ref = item.ReferencedSOPSequence[0]
            row["text"] = ref.ReferencedSOPInstanceUID
            if "ReferencedFrameNumber" in ref:
                row["frame"] = int(ref.ReferencedFrameNumber)
        rows.append(row)
        if "ContentSequence" in item:
            rows.extend(tree(item.ContentSequence, depth + 1))
    return rows


def document(path):
    ds = pydicom.dcmread(path)
    evidence = []
    for study in ds.get("CurrentRequestedProcedureEvidenceSequence", []):
        for series in study.ReferencedSeriesSequence:
            for ref in series.ReferencedSOPSequence:
                evidence.append([study.StudyInstanceUID, series.SeriesInstanceUID, ref.ReferencedSOPInstanceUID])
    return {
        "sopClass": ds.SOPClassUID,
        "modality": ds.Modality,
        "patientName": str(ds.PatientName),
        "patientID": ds.PatientID,
        "studyInstanceUID": ds.StudyInstanceUID,
        "seriesInstanceUID": ds.SeriesInstanceUID,
        "root": f"{ds.ConceptNameCodeSequence[0].CodeValue}^{ds.ConceptNameCodeSequence[0].CodingSchemeDesignator}",
        "completion": ds.get("CompletionFlag", ""),
        "verification": ds.get("VerificationFlag", ""),
        "verifier": str(ds.VerifyingObserverSequence[0].VerifyingObserverName) if "VerifyingObserverSequence" in ds else "",
        "predecessors": [
            ref.ReferencedSOPInstanceUID
            for study in ds.get("PredecessorDocumentsSequence", [])
            for series in study.ReferencedSeriesSequence
            for ref in series.ReferencedSOPSequence
        ],
        "template": ds.ContentTemplateSequence[0].TemplateIdentifier if "ContentTemplateSequence" in ds else "",
        "evidence": evidence,
        "content": tree(ds.ContentSequence),
    }


bundle = Bundle.model_validate_json(open(fhir_path, "rb").read())
resources = {}
for entry in bundle.entry:
    resource = entry.resource
    resources[f"{resource.get_resource_type()}/{resource.id}"] = resource
report = next(r for r in resources.values() if r.get_resource_type() == "DiagnosticReport")
for reference in [report.subject.reference, report.basedOn[0].reference, report.imagingStudy[0].reference]:
    if reference not in resources:
        sys.exit(f"unresolved reference {reference}")
study = resources[report.imagingStudy[0].reference]
patient = resources[report.subject.reference]
request = resources[report.basedOn[0].reference]
# fhir.resources gives a base64Binary element as its decoded bytes.
form = report.presentedForm[0].data
fhir = {
    "status": report.status,
    "conclusion": report.conclusion or "",
    "text": (form if isinstance(form, bytes) else base64.b64decode(form)).decode("utf-8"),
    "studyUID": study.identifier[0].value,
    "series": {s.uid: [i.uid for i in (s.instance or [])] for s in (study.series or [])},
    "patientNames": [n.text for n in (patient.name or [])],
    "birthDate": str(patient.birthDate) if patient.birthDate else "",
    "gender": patient.gender,
    "priority": request.priority,
    "reason": request.reasonCode[0].text if request.reasonCode else "",
}
print(json.dumps({"sr": document(sr_path), "kos": document(kos_path), "fhir": fhir}, ensure_ascii=False))

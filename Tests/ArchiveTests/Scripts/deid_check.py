"""Checks `atrium anonymize` from outside, with pydicom, dciodvfy and Python's own codecs.

usage:
  deid_check.py corpus ATRIUM SECRET WORKDIR FILE...   de-identify each file alone; PHI scan, dciodvfy
  deid_check.py chinese DIR                            write synthetic studies (GB18030, GBK, ISO 2022 IR 58, UTF-8)
  deid_check.py study ATRIUM SECRET INDIR OUTDIR [ARGS...]
                                                       de-identify a folder; PHI scan, references, dciodvfy
  deid_check.py table-object TSV PATH                  write one object holding every attribute of Table E.1-1
  deid_check.py options ATRIUM SECRET TSV WORKDIR      each option changes exactly the rows of its column
  deid_check.py uid SECRET UID                         the replacement UID computed here (HMAC-SHA256, RFC 9562 v8)

Each check prints a JSON summary and exits 1 when a check fails. The PHI scan collects the identifying values of
the input by itself (names and their components, IDs, birth date and other dates, institution and station names,
addresses, telephone numbers, serial numbers, instance UIDs), encodes each in the input's character set, UTF-8,
GB18030, GBK and GB2312, and searches the output file's bytes with the pixel data left out.
"""
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import zlib

import pydicom
from pydicom.charset import convert_encodings, encode_string
from pydicom.datadict import dictionary_VR, keyword_for_tag
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import UID_dictionary

IDENTIFYING_KEYWORDS = {
    "PatientID", "OtherPatientIDs", "AccessionNumber", "PatientBirthDate", "InstitutionName", "InstitutionAddress",
    "StationName", "DeviceSerialNumber", "PatientAddress", "PatientTelephoneNumbers",
    "ReferringPhysicianTelephoneNumbers", "ReferringPhysicianAddress", "PersonTelephoneNumbers", "PersonAddress",
    "AdmissionID", "IssuerOfPatientID", "InstitutionalDepartmentName", "MedicalRecordLocator", "StudyID",
    "PerformedProcedureStepID", "RequestedProcedureID", "ScheduledProcedureStepID",
    "PlacerOrderNumberImagingServiceRequest", "FillerOrderNumberImagingServiceRequest", "DetectorID", "PlateID",
    "CassetteID", "GantryID", "GeneratorID", "PerformedStationName", "ScheduledStationName", "ContainerIdentifier",
    "SpecimenIdentifier", "ClinicalTrialSubjectID", "OtherPatientNames", "PatientBirthName", "PatientMotherBirthName",
}
# UI attributes that name a class, syntax or scheme rather than an instance.
NOT_INSTANCE_UIDS = {"TransferSyntaxUID", "ImplementationClassUID", "CodingSchemeUID", "ContextUID",
                     "MappingResourceUID", "PrivateInformationCreatorUID", "ReferencedTransferSyntaxUIDInFile",
                     "ContextGroupExtensionCreatorUID", "TemplateExtensionOrganizationUID", "LongCodeValue",
                     "TemplateExtensionCreatorUID", "CodingSchemeRegistry"}
SHORTEST = 4
PY_CODECS = ["utf-8", "gb18030", "gbk", "gb2312"]


def forms(text, encodings=None):
    out = set()
    for codec in PY_CODECS:
        try:
            out.add(text.encode(codec))
        except (UnicodeEncodeError, LookupError):
            pass
    if encodings:
        try:
            out.add(encode_string(text, encodings))
        except Exception:
            pass
    return {f for f in out if len(f) >= SHORTEST}


def identifying_values(ds, dates=True, uids=True):
    """(keyword, text) pairs of the identifying values anywhere in ds, and raw byte forms."""
    texts = set()
    raws = set()

    def add_name(value):
        s = str(value)
        texts.add(s)
        for group in s.split("="):
            texts.add(group)
            parts = [p for p in group.split("^") if p]
            texts.update(parts)
            texts.add(" ".join(parts))
            texts.add("".join(parts))
        original = getattr(value, "original_string", None)
        if isinstance(original, bytes):
            raws.add(original.rstrip(b" \x00"))

    for elem in ds.iterall():
        if elem.tag.is_private or elem.value is None or elem.VR == "SQ":
            continue
        values = elem.value if isinstance(elem.value, (list, pydicom.multival.MultiValue)) else [elem.value]
        keyword = elem.keyword
        if elem.VR == "PN":
            for v in values:
                add_name(v)
        elif elem.VR == "DA" and dates:
            texts.update(str(v)[:8] for v in values if len(str(v)) >= 8)
        elif elem.VR == "DT" and dates:
            texts.update(str(v)[:8] for v in values if len(str(v)) >= 8)
        elif elem.VR == "UI" and uids:
            for v in values:
                v = str(v)
                if keyword.endswith("ClassUID") or keyword in NOT_INSTANCE_UIDS or v in UID_dictionary:
                    continue
                if v.startswith("1.2.840.10008."):
                    continue
                texts.add(v)
        elif keyword in IDENTIFYING_KEYWORDS:
            texts.update(str(v) for v in values)
    needles = set()
    encodings = getattr(ds, "_character_set", None)
    for t in texts:
        t = t.strip()
        if t:
            needles |= forms(t, encodings)
    needles |= {r for r in raws if len(r) >= SHORTEST}
    return needles


def output_bytes(path):
    """The file's bytes with the Pixel Data value left out (the data set inflated when deflated)."""
    data = open(path, "rb").read()
    ds = pydicom.dcmread(path, force=True)
    syntax = str(ds.file_meta.get("TransferSyntaxUID", ""))
    if syntax == "1.2.840.10008.1.2.1.99":
        if "PixelData" in ds:
            del ds.PixelData
        import io
        buffer = io.BytesIO()
        ds.save_as(buffer)
        return buffer.getvalue()
    raw = ds.get_item(0x7FE00010) if 0x7FE00010 in ds else None
    if raw is not None and hasattr(raw, "value_tell"):
        start = raw.value_tell
        end = len(data) if raw.length == 0xFFFFFFFF else start + raw.length
        return data[:start] + data[end:]
    return data


def institution_values(ds):
    """Byte forms of the institution's name, address and department in ds (top level)."""
    encodings = getattr(ds, "_character_set", None)
    out = set()
    for keyword in ("InstitutionName", "InstitutionAddress", "InstitutionalDepartmentName"):
        value = str(ds.get(keyword, "") or "").strip()
        if value:
            out |= forms(value, encodings)
    return out


def scan(needles, path, institution=frozenset()):
    data = output_bytes(path)
    # Manufacturer is not in PS3.15 Table E.1-1 (kept): it names the vendor, which a site may also call itself on the
    # device (pydicom's MR_small: Institution Name TOSHIBA, Manufacturer TOSHIBA_MEC). An institution value found only
    # inside the kept Manufacturer is no leak; found anywhere else it is.
    manufacturer = pydicom.dcmread(path, force=True).get("Manufacturer")
    if manufacturer and institution:
        raw = str(manufacturer).encode("utf-8")
        data_without = data.replace(raw, b"")
        needles = {n for n in needles if not (n in institution and n in raw and n not in data_without)}
    # The pseudonym is new text: a source value that happens to be part of it ("ANON") is not a leak. The pseudonym
    # itself must not be a source value, which the needles check as well.
    out = pydicom.dcmread(path, force=True)
    pseudonym = (str(out.get("PatientName", "")) + "\n" + str(out.get("PatientID", ""))).encode()
    found = sorted({n.decode("utf-8", "replace") for n in needles
                    if n in data and not (n in pseudonym and n not in {str(out.get("PatientName", "")).encode(),
                                                                        str(out.get("PatientID", "")).encode()})})
    return found


def dciodvfy_errors(path):
    result = subprocess.run(["dciodvfy", path], capture_output=True, text=True, errors="replace")
    lines = set()
    for line in (result.stderr + result.stdout).splitlines():
        if not line.startswith("Error"):
            continue
        # Values differ between input and output; the attribute, module and kind of error must not.
        line = re.sub(r"= <[^>]*>", "= <>", line)
        line = re.sub(r"\[\d+\]", "[]", line)
        line = re.sub(r"= '[^']*' \(0x[0-9a-fA-F]+\)", "= ''", line)
        line = re.sub(r"<[0-9.]+>", "<>", line)
        line = re.sub(r"UID [0-9.]+", "UID <>", line)
        lines.add(line.strip())
    return lines


def run_atrium(atrium, secret, source, out, extra=()):
    os.makedirs(out, exist_ok=True)
    result = subprocess.run([atrium, "anonymize", source, out, "--secret-file", secret, *extra], capture_output=True,
                            text=True)
    return result


def corpus(atrium, secret, workdir, files):
    report = {"checked": 0, "released": 0, "refused": {}, "failures": []}
    for index, path in enumerate(files):
        report["checked"] += 1
        out = os.path.join(workdir, str(index))
        result = run_atrium(atrium, secret, path, out, ["--burned-in-reviewed"])
        outputs = [os.path.join(out, f) for f in os.listdir(out)]
        if result.returncode != 0:
            if outputs:
                report["failures"].append(f"{path}: refused yet wrote {len(outputs)} files")
            reason = result.stderr.strip()
            if "not released:" not in reason:
                report["failures"].append(f"{path}: exit {result.returncode} without a reason: {reason[:300]}")
            report["refused"][os.path.basename(path)] = reason[-300:]
            continue
        if len(outputs) != 1:
            report["failures"].append(f"{path}: {len(outputs)} outputs")
            continue
        report["released"] += 1
        source = pydicom.dcmread(path, force=True)
        found = scan(identifying_values(source), outputs[0], institution_values(source))
        if found:
            report["failures"].append(f"{path}: identifying values in the output: {found}")
        check_markers(path, outputs[0], report)
        before = dciodvfy_errors(path)
        new = dciodvfy_errors(outputs[0]) - before
        # dciodvfy gives up on inputs it cannot read to the end (truncated files): nothing to compare with.
        if new and not any("read failed" in line for line in before):
            report["failures"].append(f"{path}: new dciodvfy errors: {sorted(new)[:5]}")
    return report


def check_markers(source_path, path, report):
    ds = pydicom.dcmread(path, force=True)
    if ds.get("PatientIdentityRemoved") != "YES":
        report["failures"].append(f"{source_path}: Patient Identity Removed is {ds.get('PatientIdentityRemoved')!r}")
    codes = [(i.CodeValue, i.CodingSchemeDesignator) for i in ds.get("DeidentificationMethodCodeSequence", [])]
    if ("113100", "DCM") not in codes:
        report["failures"].append(f"{source_path}: no Basic Profile code in the De-identification Method Code Sequence")


# Synthetic studies in each Chinese character set: (Specific Character Set, codec for raw bytes, ISO 2022 escapes).
CHARSETS = [
    (["GB18030"], "gb18030", False, "张^三丰", "北京协和医院"),
    (["GBK"], "gbk", False, "王^小明", "上海瑞金医院"),
    (["ISO 2022 IR 6", "ISO 2022 IR 58"], "gb2312", True, "李^建国", "广州中山医院"),
    (["ISO_IR 192"], "utf-8", False, "赵^丽娟", "成都华西医院"),
]


def encode_text(text, codec, iso2022):
    """Bytes of text as DICOM writes it: for ISO 2022 IR 58, ESC $ ) A before each run of Chinese (PS3.5 J.2)."""
    if not iso2022:
        return text.encode(codec)
    out = b""
    in_g1 = False
    for ch in text:
        if ord(ch) < 0x80:
            if ch in "^=\\":
                in_g1 = False
            out += ch.encode("ascii")
        else:
            if not in_g1:
                out += b"\x1b$)A"
                in_g1 = True
            out += ch.encode(codec)
    return out


def put_text(ds, tag, vr, text, codec, iso2022):
    ds.add_new(tag, vr, encode_text(text, codec, iso2022))


def chinese(directory):
    import numpy as np
    manifest = []
    root = "1.2.826.0.1.3680043.10.1191.77"
    for n, (charset, codec, iso2022, name, hospital) in enumerate(CHARSETS):
        family, given = name.split("^")
        latin = f"Pinyin{n}^Test"
        study_uid = f"{root}.{n}.1"
        series_uid = f"{root}.{n}.2"
        values = {
            "name": f"{latin}={name}=", "id": f"PID{n:04d}7781", "accession": f"ACC{n:03d}55190",
            "birth": f"19{60 + n}0412", "hospital": hospital, "referring": f"Ref{n}^Doctor=医生^{n}号=",
            "station": f"CTSTATION{n}", "serial": f"SN-{n}-884213", "address": f"{hospital}路{n}号",
            "phone": f"+86-10-6915{n}123", "study_date": f"2026020{n + 1}",
        }
        manifest.append({"charset": charset, "values": values, "texts": [
            values["name"], latin, f"{latin}={name}", name, family + given, given, values["id"],
            values["accession"], values["birth"], hospital, values["station"], values["serial"], values["address"],
            values["phone"], values["study_date"], "医生^1号".replace("1", str(n)),
        ], "uids": [study_uid, series_uid]})

        def base(sop_class, sop_uid, modality, number, series=series_uid, series_number=1):
            ds = Dataset()
            ds.SpecificCharacterSet = charset
            ds.SOPClassUID = sop_class
            ds.SOPInstanceUID = sop_uid
            ds.StudyInstanceUID = study_uid
            ds.SeriesInstanceUID = series
            ds.Modality = modality
            ds.SeriesNumber = series_number
            ds.InstanceNumber = number
            put_text(ds, 0x00100010, "PN", values["name"], codec, iso2022)
            ds.PatientID = values["id"]
            ds.PatientBirthDate = values["birth"]
            ds.PatientSex = "F" if n % 2 else "M"
            ds.AccessionNumber = values["accession"]
            ds.StudyDate = values["study_date"]
            ds.StudyTime = "101500"
            ds.StudyID = f"S{n}9981"
            put_text(ds, 0x00080090, "PN", values["referring"], codec, iso2022)
            put_text(ds, 0x00080080, "LO", hospital, codec, iso2022)
            put_text(ds, 0x00080081, "ST", values["address"], codec, iso2022)
            put_text(ds, 0x00081030, "LO", f"胸部CT {family}{given}", codec, iso2022)
            put_text(ds, 0x0008103E, "LO", f"平扫 {values['id']}", codec, iso2022)
            ds.StationName = values["station"]
            ds.DeviceSerialNumber = values["serial"]
            ds.ReferringPhysicianTelephoneNumbers = values["phone"]
            ds.Manufacturer = "ACME"
            ds.InstanceCreationDate = values["study_date"]
            return ds

        images = []
        for i in (1, 2):
            ds = base("1.2.840.10008.5.1.4.1.1.2", f"{root}.{n}.3.{i}", "CT", i)
            ds.FrameOfReferenceUID = f"{root}.{n}.4"
            ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
            ds.Rows = ds.Columns = 16
            ds.BitsAllocated = 16
            ds.BitsStored = 12
            ds.HighBit = 11
            ds.PixelRepresentation = 0
            ds.SamplesPerPixel = 1
            ds.PhotometricInterpretation = "MONOCHROME2"
            ds.RescaleIntercept = -1024
            ds.RescaleSlope = 1
            ds.PixelData = (np.arange(256, dtype=np.uint16) * (i + 1)).tobytes()
            images.append(ds)
        manifest[-1]["uids"] += [d.SOPInstanceUID for d in images] + [f"{root}.{n}.4"]

        def references():
            seq = Sequence()
            for d in images:
                item = Dataset()
                item.ReferencedSOPClassUID = d.SOPClassUID
                item.ReferencedSOPInstanceUID = d.SOPInstanceUID
                seq.append(item)
            return seq

        kos = base("1.2.840.10008.5.1.4.1.1.88.59", f"{root}.{n}.5.1", "KO", 1, f"{root}.{n}.5", 2)
        evidence = Dataset()
        evidence.StudyInstanceUID = study_uid
        series = Dataset()
        series.SeriesInstanceUID = series_uid
        series.ReferencedSOPSequence = references()
        evidence.ReferencedSeriesSequence = Sequence([series])
        kos.CurrentRequestedProcedureEvidenceSequence = Sequence([evidence])
        kos.ValueType = "CONTAINER"
        concept = Dataset()
        concept.CodeValue = "113004"
        concept.CodingSchemeDesignator = "DCM"
        concept.CodeMeaning = "For Teaching"
        kos.ConceptNameCodeSequence = Sequence([concept])
        kos.ContinuityOfContent = "SEPARATE"
        content = Sequence()
        for d in images:
            item = Dataset()
            item.RelationshipType = "CONTAINS"
            item.ValueType = "IMAGE"
            item.ReferencedSOPSequence = Sequence([references()[images.index(d)]])
            content.append(item)
        text = Dataset()
        text.RelationshipType = "CONTAINS"
        text.ValueType = "TEXT"
        put_text(text, 0x0040A160, "UT", f"{family}{given} 的随访 {values['id']}", codec, iso2022)
        content.append(text)
        kos.ContentSequence = content
        manifest[-1]["uids"] += [f"{root}.{n}.5.1", f"{root}.{n}.5"]

        gsps = base("1.2.840.10008.5.1.4.1.1.11.1", f"{root}.{n}.6.1", "PR", 1, f"{root}.{n}.6", 3)
        ref_series = Dataset()
        ref_series.SeriesInstanceUID = series_uid
        ref_series.ReferencedImageSequence = references()
        gsps.ReferencedSeriesSequence = Sequence([ref_series])
        gsps.ContentLabel = "TEACHING"
        annotation = Dataset()
        annotation.GraphicLayer = "LAYER1"
        text_object = Dataset()
        put_text(text_object, 0x00700006, "ST", f"{family}{given}", codec, iso2022)
        text_object.AnchorPointAnnotationUnits = "PIXEL"
        text_object.AnchorPoint = [4.0, 4.0]
        text_object.AnchorPointVisibility = "N"
        annotation.TextObjectSequence = Sequence([text_object])
        annotation.ReferencedImageSequence = references()
        gsps.GraphicAnnotationSequence = Sequence([annotation])
        manifest[-1]["uids"] += [f"{root}.{n}.6.1", f"{root}.{n}.6"]

        folder = os.path.join(directory, f"study{n}")
        os.makedirs(folder, exist_ok=True)
        for label, ds in [("ct1", images[0]), ("ct2", images[1]), ("kos", kos), ("gsps", gsps)]:
            meta = FileMetaDataset()
            meta.MediaStorageSOPClassUID = ds.SOPClassUID
            meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
            meta.TransferSyntaxUID = "1.2.840.10008.1.2.1"
            ds.file_meta = meta
            ds.save_as(os.path.join(folder, label + ".dcm"), enforce_file_format=True)
    with open(directory.rstrip("/") + ".manifest.json", "w", encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False)


def study(atrium, secret, indir, outdir, extra):
    report = {"inputs": 0, "outputs": 0, "failures": []}
    result = run_atrium(atrium, secret, indir, outdir, extra)
    if result.returncode != 0:
        report["failures"].append(f"atrium anonymize exit {result.returncode}: {result.stderr[-800:]}")
    base = indir.rstrip("/")
    candidates = [base + ".manifest.json", os.path.dirname(base) + ".manifest.json"]
    manifest = json.load(open(next(c for c in candidates if os.path.exists(c)), encoding="utf-8"))
    inputs = []
    for dirpath, _, names in os.walk(indir):
        inputs += [os.path.join(dirpath, n) for n in names if n.endswith(".dcm")]
    outputs = [os.path.join(outdir, n) for n in os.listdir(outdir)]
    report["inputs"], report["outputs"] = len(inputs), len(outputs)
    if len(inputs) != len(outputs):
        report["failures"].append(f"{len(inputs)} inputs, {len(outputs)} outputs")
    # PHI: the values the generator wrote, in every encoding, and each input's own values as pydicom reads them.
    needles = set()
    for entry in manifest:
        encodings = convert_encodings(entry["charset"])
        for t in entry["texts"] + entry["uids"]:
            needles |= forms(t, encodings)
            if "ISO 2022 IR 58" in entry["charset"]:
                needles.add(encode_text(t, "gb2312", True))
    for path in inputs:
        needles |= identifying_values(pydicom.dcmread(path, force=True))
    out_sets = {}
    for path in outputs:
        found = scan(needles, path)
        if found:
            report["failures"].append(f"{os.path.basename(path)}: identifying values in the output: {found}")
        check_markers(path, path, report)
        ds = pydicom.dcmread(path, force=True)
        out_sets[str(ds.SOPInstanceUID)] = ds
    # References: every UID an output refers to is an output's; studies stay apart, series stay together.
    sop_uids = set(out_sets)
    series_uids = {str(d.SeriesInstanceUID) for d in out_sets.values()}
    study_uids = {str(d.StudyInstanceUID) for d in out_sets.values()}
    input_studies = {str(pydicom.dcmread(p, force=True).StudyInstanceUID) for p in inputs}
    input_series = {str(pydicom.dcmread(p, force=True).SeriesInstanceUID) for p in inputs}
    if len(study_uids) != len(input_studies):
        report["failures"].append(f"{len(input_studies)} studies in, {len(study_uids)} out")
    if len(series_uids) != len(input_series):
        report["failures"].append(f"{len(input_series)} series in, {len(series_uids)} out")
    references = 0
    for uid, ds in out_sets.items():
        for elem in ds.iterall():
            if elem.keyword == "ReferencedSOPInstanceUID":
                references += 1
                if str(elem.value) not in sop_uids:
                    report["failures"].append(f"{uid}: refers to {elem.value}, not an output instance")
            if elem.keyword == "SeriesInstanceUID" and str(elem.value) not in series_uids:
                report["failures"].append(f"{uid}: refers to series {elem.value}, not an output series")
            if elem.keyword == "StudyInstanceUID" and str(elem.value) not in study_uids:
                report["failures"].append(f"{uid}: refers to study {elem.value}, not an output study")
    report["references"] = references
    # Each input pairs with the output whose SOP Instance UID this script derives from the input's (HMAC-SHA256 of
    # the UID under the secret, as a version 8 UUID under 2.25); dciodvfy finds no error the input did not have.
    for path in inputs:
        src = pydicom.dcmread(path, force=True)
        expected = replacement_uid(secret, str(src.SOPInstanceUID))
        target = out_sets.get(expected)
        if target is None:
            report["failures"].append(f"{path}: no output with the derived UID {expected}")
            continue
        new = dciodvfy_errors(target.filename) - dciodvfy_errors(path)
        if new:
            report["failures"].append(f"{path}: new dciodvfy errors: {sorted(new)[:5]}")
        if "PixelData" in src and bytes(target.PixelData) != bytes(src.PixelData):
            report["failures"].append(f"{path}: the pixel data changed")
    report["uids"] = sorted(sop_uids | series_uids | study_uids)
    return report


def table_rows(tsv):
    rows = []
    for line in open(tsv, encoding="utf-8"):
        if line.startswith("#") or not line.strip():
            continue
        tag, basic, options, name = line.rstrip("\n").split("\t")
        opts = {} if options == "-" else dict(p.split("=") for p in options.split(","))
        rows.append((tag, basic, opts, name))
    return rows


def concrete(tag):
    return int(tag.replace("x", "0"), 16)


def sample(tag, vr, n):
    if vr == "SQ":
        item = Dataset()
        if tag in (0x00081140, 0x00082112, 0x00081110, 0x00081111, 0x00081120):
            item.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
            item.ReferencedSOPInstanceUID = f"1.2.826.0.1.3680043.10.1191.88.{n}.1"
        else:
            item.CodeValue = f"C{n}"
            item.CodingSchemeDesignator = "99TEST"
            item.CodeMeaning = f"Meaning {n}"
            item.TextValue = f"free text {n}"
        return Sequence([item])
    return {
        "PN": f"Name{n:04d}^Given{n:04d}", "LO": f"Value#{n:04d}", "SH": f"SH#{n:04d}", "LT": f"Long text #{n:04d}",
        "ST": f"Short text #{n:04d}", "UT": f"Unlimited text #{n:04d}", "UC": f"UC#{n:04d}", "CS": "N", "AE": f"AE#{n:04d}", "DA": "20200115", "TM": "101010",
        "DT": "20200115101010", "AS": "045Y", "IS": str(n), "DS": "1.5", "UI": f"1.2.826.0.1.3680043.10.1191.99.{n}",
        "US": 1, "SS": 1, "UL": 1, "SL": 1, "FL": 1.5, "FD": 1.5, "OB": b"\x01\x02", "OW": b"\x01\x02", "UN": b"\x01\x02",
        "UR": "http://example.org", "AT": 0x00100010, "SV": 1, "UV": 1,
    }.get(vr)


def table_object(tsv, path):
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = "1.2.826.0.1.3680043.10.1191.99.0"
    ds.Modality = "OT"
    for n, (tag, basic, opts, name) in enumerate(table_rows(tsv), start=1):
        t = concrete(tag)
        group = t >> 16
        if group in (0x0000, 0x0002, 0x0004, 0xFFFA, 0xFFFC) or t in (0x00080018,):
            continue
        if group == 0x5000:
            t = 0x50003000
        try:
            vr = dictionary_VR(t).split(" ")[0]
        except KeyError:
            continue
        if t == 0x60003000:
            ds.add_new(0x60000010, "US", 1)
            ds.add_new(0x60000011, "US", 8)
            ds.add_new(0x60000040, "CS", "G")
            ds.add_new(0x60000050, "SS", [1, 1])
            ds.add_new(0x60000100, "US", 1)
            ds.add_new(0x60000102, "US", 0)
        value = sample(t, vr, n)
        if value is None:
            continue
        if t == 0x00100040:
            value = "F"
        ds.add_new(t, vr, value)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = "1.2.840.10008.1.2.1"
    ds.file_meta = meta
    ds.save_as(path, enforce_file_format=True)


OPTION_FLAGS = {
    "uid": "--retain-uids", "dev": "--retain-device-identity", "inst": "--retain-institution-identity",
    "pat": "--retain-patient-characteristics", "full": "--retain-full-dates", "mod": "--retain-modified-dates",
    "desc": "--clean-descriptors", "sc": "--clean-structured-content", "gr": "--clean-graphics",
}
MARKERS = {0x00120062, 0x00120063, 0x00120064, 0x00280303}


def only_output(directory):
    names = os.listdir(directory)
    if len(names) != 1:
        raise SystemExit(f"{directory}: {len(names)} outputs")
    ds = pydicom.dcmread(os.path.join(directory, names[0]))
    values = {}
    for elem in list(ds.file_meta) + list(ds):
        if elem.tag in MARKERS or elem.tag.element == 0:
            continue
        values[int(elem.tag)] = elem
    return values


def options(atrium, secret, tsv, workdir):
    source = os.path.join(workdir, "table.dcm")
    table_object(tsv, source)
    present = {int(e.tag) for e in pydicom.dcmread(source)} | {0x00020003}
    rows = table_rows(tsv)
    report = {"options": {}, "failures": []}
    baseline_dir = os.path.join(workdir, "baseline")
    result = run_atrium(atrium, secret, source, baseline_dir, ["--burned-in-reviewed"])
    if result.returncode != 0:
        report["failures"].append(f"baseline: {result.stderr[-500:]}")
        return report
    baseline = only_output(baseline_dir)
    for key, flag in OPTION_FLAGS.items():
        out = os.path.join(workdir, key)
        result = run_atrium(atrium, secret, source, out, ["--burned-in-reviewed", flag])
        if result.returncode != 0:
            report["failures"].append(f"{flag}: {result.stderr[-500:]}")
            continue
        values = only_output(out)
        changed = {t for t in set(baseline) | set(values)
                   if (t in baseline) != (t in values) or (t in baseline and baseline[t] != values[t])}
        expected = set()
        for tag, basic, opts, name in rows:
            t = concrete(tag)
            if t >> 16 == 0x5000:
                t = 0x50003000
            if key in opts and t in present and not (opts[key] == "X" and basic == "X"):
                expected.add(t)
        if key == "gr":
            # Curves and overlays are kept whole with the option; the engine removes the whole group without it.
            expected |= {t for t in present if t >> 24 in (0x50, 0x60)}
        if key in ("mod", "full"):
            expected -= {t for t in expected if t in baseline and t in values and baseline[t] == values[t]}
        missing = sorted(f"{t:08X}" for t in expected - changed)
        extra = sorted(f"{t:08X}" for t in changed - expected)
        report["options"][key] = {"expected": len(expected), "changed": len(changed)}
        if missing or extra:
            report["failures"].append(f"{flag}: not changed {missing}; changed beyond its column {extra}")
        if key == "mod":
            shifts = set()
            from datetime import date
            for t, elem in values.items():
                if elem.VR == "DA" and elem.value and t in baseline:
                    src = "20200115"
                    d = str(elem.value)
                    shifts.add((date(int(d[:4]), int(d[4:6]), int(d[6:8])) - date(2020, 1, 15)).days)
            if len(shifts) != 1 or 0 in shifts:
                report["failures"].append(f"modified dates: shifts {sorted(shifts)}, expected one non-zero shift")
    return report


def replacement_uid(secret_path, uid):
    key = open(secret_path, "rb").read()
    digest = bytearray(hmac.new(key, b"uid\x00" + uid.encode(), hashlib.sha256).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x80
    digest[8] = (digest[8] & 0x3F) | 0x80
    return "2.25." + str(int.from_bytes(digest, "big"))


def main():
    command = sys.argv[1]
    if command == "corpus":
        report = corpus(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])
    elif command == "chinese":
        chinese(sys.argv[2])
        return
    elif command == "study":
        report = study(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6:])
    elif command == "table-object":
        table_object(sys.argv[2], sys.argv[3])
        return
    elif command == "options":
        report = options(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
    elif command == "uid":
        print(replacement_uid(sys.argv[2], sys.argv[3]))
        return
    else:
        raise SystemExit(__doc__)
    print(json.dumps(report, ensure_ascii=False))
    sys.exit(1 if report["failures"] else 0)


main()

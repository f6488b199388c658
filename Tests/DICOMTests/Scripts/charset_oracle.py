#!/usr/bin/env python3
"""Expected decodings of DICOM text values from software Atrium did not write: pydicom 3, Python's codecs, dcmtk.

`charset_oracle.py cases` prints a JSON list of cases {name, terms, vr, hex, expected, oracle} for
CharacterSetTests.swift: the raw bytes of a value and what an independent decoder reads from them.

`charset_oracle.py decode` reads a JSON list of {terms, vr, hex} on stdin (values Atrium encoded) and prints, for
each, {"pydicom": str or null, "dcmtk": str or null}, each read from a Part 10 file holding that one value.

Multi-valued results are joined with a backslash and trailing padding is removed from each value, which is how
Atrium's DataSet hands them out.
"""

import json
import os
import struct
import subprocess
import sys
import tempfile
import warnings
import xml.etree.ElementTree as ElementTree

warnings.simplefilter("ignore")

import pydicom  # noqa: E402
from pydicom import charset as pydicom_charset  # noqa: E402
from pydicom.data import get_charset_files  # noqa: E402
from pydicom.valuerep import TEXT_VR_DELIMS  # noqa: E402

TEXT_VRS = {"SH", "LO", "ST", "LT", "PN", "UC", "UT"}
SINGLE_VALUED = {"ST", "LT", "UT"}
DCMTK = "/usr/bin/dcm2xml"


# ---------------------------------------------------------------- Part 10 files written byte by byte


def element(group, number, vr, value):
    pad = b"\0" if vr in ("UI", "OB") else b" "
    if len(value) % 2:
        value += pad
    header = struct.pack("<HH", group, number) + vr.encode()
    if vr in ("OB", "OW", "SQ", "UN", "UT", "UC", "UR"):
        return header + b"\0\0" + struct.pack("<I", len(value)) + value
    return header + struct.pack("<H", len(value)) + value


def part10(terms, elements):
    """A Part 10 file (explicit VR little endian) whose values are exactly the given bytes."""
    sop_instance = b"1.2.826.0.1.3680043.8.498.1"
    meta = b"".join(
        [
            element(0x0002, 0x0001, "OB", b"\0\1"),
            element(0x0002, 0x0002, "UI", b"1.2.840.10008.5.1.4.1.1.7"),
            element(0x0002, 0x0003, "UI", sop_instance),
            element(0x0002, 0x0010, "UI", b"1.2.840.10008.1.2.1"),
            element(0x0002, 0x0012, "UI", b"1.2.826.0.1.3680043.8.498"),
        ]
    )
    body = element(0x0008, 0x0005, "CS", "\\".join(terms).encode())
    body += element(0x0008, 0x0016, "UI", b"1.2.840.10008.5.1.4.1.1.7")
    body += element(0x0008, 0x0018, "UI", sop_instance)
    for (group, number), vr, value in sorted(elements, key=lambda e: e[0]):
        body += element(group, number, vr, value)
    return b"\0" * 128 + b"DICM" + element(0x0002, 0x0000, "UL", struct.pack("<I", len(meta))) + meta + body


# Private-free standard tags with a text VR, one per VR, to hold the values under test.
TAG_FOR_VR = {
    "PN": (0x0010, 0x0010),
    "LO": (0x0010, 0x0020),
    "SH": (0x0008, 0x0050),
    "LT": (0x0010, 0x4000),
    "ST": (0x0008, 0x0081),
    "UT": (0x0040, 0xA160),
    "UC": (0x0018, 0x9915),
}


def normalized(text, vr):
    values = [text] if vr in SINGLE_VALUED else text.split("\\")
    return "\\".join(v.rstrip(" \0") for v in values)


def pydicom_value(element_value, vr):
    if element_value is None:
        return ""
    if isinstance(element_value, (list, tuple)) or type(element_value).__name__ == "MultiValue":
        return normalized("\\".join(str(v) for v in element_value), vr)
    return normalized(str(element_value), vr)


def read_with_pydicom(path, vr):
    ds = pydicom.dcmread(path)
    return pydicom_value(ds[TAG_FOR_VR[vr]].value, vr)


def read_with_dcmtk(path, vr):
    """dcmtk's dcm2xml +U8: dcmtk converts through the C library's iconv, with its own ISO 2022 handling."""
    result = subprocess.run([DCMTK, "+U8", path], capture_output=True)
    if result.returncode != 0:
        return None
    root = ElementTree.fromstring(result.stdout)
    group, number = TAG_FOR_VR[vr]
    wanted = f"{group:04x},{number:04x}"
    for node in root.iter("element"):
        if node.get("tag") == wanted:
            return normalized(node.text or "", vr)
    return None


def read_file(terms, vr, raw, readers):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "value.dcm")
        with open(path, "wb") as f:
            f.write(part10(terms, [(TAG_FOR_VR[vr], vr, raw)]))
        out = {}
        for name, reader in readers.items():
            try:
                out[name] = reader(path, vr)
            except Exception:  # an oracle that cannot read a value gives no answer
                out[name] = None
        return out


# ---------------------------------------------------------------- cases


def case(name, terms, vr, raw, expected, oracle):
    return {"name": name, "terms": terms, "vr": vr, "hex": raw.hex(), "expected": expected, "oracle": oracle}


def pydicom_decode(terms, vr, raw):
    """pydicom's own decoding of a value, as it decodes element values read from a file."""
    encodings = pydicom_charset.convert_encodings(terms)
    if vr == "PN" and terms[0] in ("GB18030", "GBK"):
        # pydicom splits PN bytes at every 05/12 before decoding, also inside two-byte GBK characters (PS3.5
        # 6.1.2.3 says only a single byte 05/12 is a delimiter), so the codec reads the whole value here.
        return normalized(raw.decode(pydicom_charset.python_encoding[terms[0]]), vr)
    if vr == "PN":
        from pydicom.valuerep import PersonName

        return normalized("\\".join(str(PersonName(v, encodings)) for v in raw.split(b"\\")), vr)
    if vr in SINGLE_VALUED:
        return normalized(pydicom_charset.decode_bytes(raw, encodings, TEXT_VR_DELIMS), vr)
    return normalized(pydicom_charset.decode_bytes(raw, encodings, TEXT_VR_DELIMS | {0x5C}), vr)


def charset_file_cases():
    """Every text element of pydicom's character set test files, with pydicom's decoding."""
    cases = []
    for path in sorted(get_charset_files("*.dcm")):
        name = os.path.basename(path)
        raw_ds = pydicom.dcmread(path)
        decoded_ds = pydicom.dcmread(path)

        def walk(raw_items, decoded_items, terms, where):
            for tag in list(raw_items.keys()):
                if tag == 0x00080005:
                    continue
                raw_elem = raw_items.get_item(tag)
                vr = raw_elem.VR
                if vr == "SQ":
                    for index, (raw_item, decoded_item) in enumerate(zip(raw_items[tag].value, decoded_items[tag].value)):
                        item_terms = terms
                        if "SpecificCharacterSet" in raw_item:
                            value = raw_item.SpecificCharacterSet
                            item_terms = list(value) if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue" else [value]
                        walk(raw_item, decoded_item, item_terms, f"{where}{tag}[{index}]")
                    continue
                if vr not in TEXT_VRS or tag.group == 0x0002:
                    continue
                value = raw_elem.value
                if not isinstance(value, bytes) or not value.strip(b" \0"):
                    continue
                expected = pydicom_value(decoded_items[tag].value, vr)
                cases.append(case(f"{name} {where}{tag} {vr}", terms, vr, value, expected, "pydicom 3 (charset_files)"))

        value = raw_ds.get("SpecificCharacterSet", "")
        terms = list(value) if type(value).__name__ == "MultiValue" else [value]
        walk(raw_ds, decoded_ds, terms, "")
    return cases


def single_byte_cases():
    """All 96 right-half bytes of every single-byte set, plain and after its ISO 2022 escape sequence."""
    sets = {
        100: ("latin_1", b"A"),
        101: ("iso8859_2", b"B"),
        109: ("iso8859_3", b"C"),
        110: ("iso8859_4", b"D"),
        126: ("iso8859_7", b"F"),
        127: ("iso8859_6", b"G"),
        138: ("iso8859_8", b"H"),
        144: ("iso8859_5", b"L"),
        148: ("iso8859_9", b"M"),
        166: ("tis_620", b"T"),
        203: ("iso8859_15", b"b"),
    }
    right_half = bytes(range(0xA0, 0x100))
    cases = []
    for number, (codec, final) in sets.items():
        raw = b"Name^" + right_half
        expected = raw.decode(codec, errors="replace")
        oracle = f"Python codec {codec}"
        if number != 203:  # pydicom 3.0.1 has no ISO_IR 203
            expected = pydicom_decode([f"ISO_IR {number}"], "LT", raw)
            oracle = "pydicom 3 decode_bytes"
        cases.append(case(f"ISO_IR {number} right half", [f"ISO_IR {number}"], "LT", raw, expected, oracle))
        # ISO 2022: ASCII first, then the set designated to G1 by its escape sequence, back to value 1 at "^".
        raw = b"abc\x1b-" + final + right_half[1:] + b"^xyz"
        terms = ["", f"ISO 2022 IR {number}"]
        expected = "abc" + right_half[1:].decode(codec, errors="replace") + "^xyz"
        cases.append(case(f"ISO 2022 IR {number} after ESC - {final.decode()}", terms, "PN", raw, expected, oracle))
    return cases


def double_byte_table_case(name, terms, escape, number_bytes, codec_bytes, codec, vr="LT", disputed=()):
    """Every 94x94 code of a set, after its escape sequence, with Python's codec decoding each code alone. Codes
    in `disputed` are left out: Python's tables are older there, and dcmtk_cases() checks them."""
    raw = bytearray(escape)
    expected = []
    for first in range(0x21, 0x7F):
        for second in range(0x21, 0x7F):
            if (first, second) in disputed:
                continue
            code = number_bytes(first, second)
            raw += code
            try:
                expected.append(codec_bytes(code).decode(codec))
            except UnicodeDecodeError:
                expected.append("\ufffd")
    return case(name, terms, vr, bytes(raw), "".join(expected), f"Python codec {codec}")


def double_byte_cases():
    return [
        double_byte_table_case(
            "ISO 2022 IR 87 every JIS X 0208 code",
            ["", "ISO 2022 IR 87"],
            b"\x1b$B",
            lambda a, b: bytes([a, b]),
            lambda code: b"\x1b$B" + code,
            "iso2022_jp",
        ),
        double_byte_table_case(
            "ISO 2022 IR 159 every JIS X 0212 code",
            ["", "ISO 2022 IR 159"],
            b"\x1b$(D",
            lambda a, b: bytes([a, b]),
            lambda code: b"\x1b$(D" + code,
            "iso2022_jp_2",
        ),
        double_byte_table_case(
            "ISO 2022 IR 149 every KS X 1001 code",
            ["", "ISO 2022 IR 149"],
            b"\x1b$)C",
            lambda a, b: bytes([a | 0x80, b | 0x80]),
            lambda code: code,
            "euc_kr",
            disputed={(0x22, 0x68), (0x24, 0x54)},
        ),
        double_byte_table_case(
            "ISO 2022 IR 58 every GB 2312 code",
            ["", "ISO 2022 IR 58"],
            b"\x1b$)A",
            lambda a, b: bytes([a | 0x80, b | 0x80]),
            lambda code: code,
            "gb2312",
        ),
    ]


def gb_cases():
    cases = []
    # Every BMP character and every 16th supplementary one, as GB18030 (its four-byte forms included).
    # Python's codec has the GB18030-2000 mapping; glibc (so dcmtk and Atrium) has GB18030-2022, which moved these
    # characters from private use or four-byte codes to the two-byte codes GB18030_2022_CODES; dcmtk_cases() checks them.
    disputed = {0x1E3F, 0xE7C7, 0xE816, 0xE817, 0xE818, 0xE81E, 0xE826, 0xE82B, 0xE82C, 0xE831, 0xE832, 0xE83B, 0xE843}
    disputed |= {0xE854, 0xE855, 0xE864} | set(range(0x9FB4, 0x9FBC)) | set(range(0xE78D, 0xE797)) | set(range(0xFE10, 0xFE1A))
    scalars = [c for c in range(0x80, 0x10000) if not 0xD800 <= c <= 0xDFFF and c not in disputed]
    scalars += list(range(0x10000, 0x110000, 16))
    text = "".join(map(chr, scalars))
    raw = text.encode("gb18030")
    cases.append(case("GB18030 every BMP character and every 16th supplementary one", ["GB18030"], "LT", raw,
                      pydicom_decode(["GB18030"], "LT", raw), "pydicom 3 decode_bytes (Python codec gb18030)"))
    # Every character GBK has.
    gbk = bytearray()
    for first in range(0x81, 0xFF):
        for second in list(range(0x40, 0x7F)) + list(range(0x80, 0xFF)):
            code = bytes([first, second])
            try:
                code.decode("gbk")
                gbk += code
            except UnicodeDecodeError:
                pass
    cases.append(case("GBK every two-byte character", ["GBK"], "LT", bytes(gbk), pydicom_decode(["GBK"], "LT", bytes(gbk)),
                      "pydicom 3 decode_bytes (Python codec gbk)"))
    # Names whose second bytes are 05/12 and four-byte characters, in multi-valued elements.
    for terms, text, vr in [
        (["GBK"], "乗^丂=Cheng\\表^王", "PN"),
        (["GB18030"], "𠀀^€㐀=Test\\乗\\𪚥", "PN"),
        (["GB18030"], "诊断：乗\\丂\\𠀀 四字节", "LO"),
        (["GB18030"], "第一行\\乗\r\n第二行𠀀", "LT"),
    ]:
        raw = text.encode(terms[0].lower())
        oracle = "Python codec " + terms[0].lower() if vr == "PN" else "pydicom 3 decode_bytes"
        cases.append(case(f"{terms[0]} {vr} {text!r}", terms, vr, raw, pydicom_decode(terms, vr, raw), oracle))
    return cases


def japanese_cases():
    cases = []
    # JIS X 0212 (IR 159) and JIS X 0208 (IR 87) in one name; pydicom's PersonName decodes each group.
    raw = b"Sato^Ikko=\x1b$B:4F#\x1b(B^\x1b$(D0!\x1b(B\x1b$B0l9(\x1b(B=\x1b$B$5$H$&\x1b(B"
    terms = ["", "ISO 2022 IR 87", "ISO 2022 IR 159"]
    cases.append(case("IR 87 and IR 159 in one name", terms, "PN", raw, pydicom_decode(terms, "PN", raw), "pydicom 3 PersonName"))
    # JIS X 0208 codes whose second byte is 05/12 (PS3.5 6.1.2.3: not a delimiter), in a multi-valued LO.
    raw = b"\x1b$BG\\\x1b(B\\\x1b$B@\\\x1b(B"
    cases.append(case("IR 87 codes with 05/12 inside", ["", "ISO 2022 IR 87"], "LO", raw,
                      pydicom_decode(["", "ISO 2022 IR 87"], "LO", raw), "pydicom 3 decode_bytes"))
    # Half-width katakana in ISO_IR 13 and two values.
    raw = b"\xd4\xcf\xc0\xde^\xc0\xdb\xb3\\\xb1\xb2"
    cases.append(case("ISO_IR 13 katakana, two values", ["ISO_IR 13"], "PN", raw, pydicom_decode(["ISO_IR 13"], "PN", raw),
                      "pydicom 3 PersonName"))
    # Shift_JIS kanji labelled ISO_IR 13, which some writers produce; pydicom reads ISO_IR 13 as Shift_JIS.
    raw = "ﾔﾏﾀﾞ 山田 表\ｱ".encode("shift_jis")
    cases.append(case("ISO_IR 13 holding Shift_JIS kanji", ["ISO_IR 13"], "LO", raw, pydicom_decode(["ISO_IR 13"], "LO", raw),
                      "pydicom 3 decode_bytes"))
    return cases


GB18030_2022_CODES = (
    "a6d9 a6da a6db a6dc a6dd a6de a6df a6ec a6ed a6f3 a8bc fe51 fe52 fe53 fe59 fe61 fe66 fe67 fe6c fe6d fe76 fe7e"
    " fe90 fe91 fea0"
)


def dcmtk_cases():
    """Values read by dcmtk from Part 10 files: ISO 2022 IR 58 (pydicom keeps its escape sequences), the
    JIS X 0201 Romaji codes 05/12 and 07/14, which pydicom reads as ASCII, and codes whose mapping changed after
    the tables of Python's codecs."""
    items = [
        # The codes whose mapping GB18030-2005 and -2022 changed (Python's codec has the 2000 mapping).
        (["GB18030"], "LT", b"A" + bytes.fromhex(GB18030_2022_CODES) + b"B" + bytes.fromhex("8135f437")),
        # KS X 1001:2002 added A2 E8, CIRCLED HANGUL IEUNG U; Python's euc_kr lacks it and reads a lone A4 D4
        # (HANGUL FILLER) as the start of an eight-byte composed syllable.
        (["", "ISO 2022 IR 149"], "LT", b"\x1b$)C\xa2\xe6\xa2\xe7\xa2\xe8 \x1b$)C\xa4\xd4"),
        (["", "ISO 2022 IR 58"], "PN", b"Zhang^XiaoDong=\x1b$)A\xd5\xc5^\x1b$)A\xd0\xa1\xb6\xab"),
        (["", "ISO 2022 IR 58"], "LO", b"\x1b$)A\xd5\xc5\xc8\xfd\\Li Si\\\x1b$)A\xc0\xee\xcb\xc4"),
        (["", "ISO 2022 IR 58"], "SH", b"CT\x1b$)A\xd0\xd8\xb2\xbf"),
        (["ISO 2022 IR 6", "ISO 2022 IR 58"], "PN", b"Wang^Fang=\x1b$)A\xcd\xf5^\x1b$)A\xb7\xbc"),
        (["ISO_IR 13"], "LT", b"a\\b~\xd4\xcf"),
        (["ISO_IR 13"], "LO", b"\xd4\xcf~"),
        (["", "ISO 2022 IR 149"], "LO", b"\x1b$)C\xc8\xab\xb1\xe6\xb5\xbf\\Hong"),
        (["ISO_IR 100"], "LO", b"J\xe9r\xf4me\\M\xfcller"),
        (["ISO_IR 144"], "PN", b"\xbb\xee\xdace\xdc\xd1yp\xd3"),
    ]
    cases = []
    for terms, vr, raw in items:
        read = read_file(terms, vr, raw, {"dcmtk": read_with_dcmtk})
        cases.append(case(f"dcmtk {'/'.join(terms)} {vr}", terms, vr, raw, read["dcmtk"], "dcmtk 3.6 dcm2xml +U8"))
    return cases


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "decode":
        requests = json.load(sys.stdin)
        answers = []
        for request in requests:
            raw = bytes.fromhex(request["hex"])
            answers.append(read_file(request["terms"], request["vr"], raw, {"pydicom": read_with_pydicom, "dcmtk": read_with_dcmtk}))
        json.dump(answers, sys.stdout, ensure_ascii=False)
        return
    cases = charset_file_cases() + single_byte_cases() + double_byte_cases() + gb_cases() + japanese_cases() + dcmtk_cases()
    json.dump(cases, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()

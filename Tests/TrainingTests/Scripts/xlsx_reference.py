#!/usr/bin/env python3
"""Independent reader for XLSXWriter and CSVWriter's output.

xlsx_reference.py xlsx FILE -> JSON: {"sheets": [{"name", "rows": [[{"type", "value"}...]], "bold": [...],
                                "widths": {"A": w...}}], "zip": {"crc": "ok" | bad entry, "names": [...]}} read with
                                openpyxl (values and number formats) and zipfile (CRC of every entry).
xlsx_reference.py csv FILE  -> JSON: {"bom": bool, "crlf": bool, "rows": [[...]]} read with the csv module.
"""
import csv
import datetime
import io
import json
import sys
import zipfile

import openpyxl


def cell(value):
    if value is None:
        return {"type": "empty", "value": None}
    if isinstance(value, bool):
        return {"type": "bool", "value": value}
    if isinstance(value, (int, float)):
        return {"type": "number", "value": value}
    if isinstance(value, datetime.datetime):
        return {"type": "date", "value": value.replace(tzinfo=datetime.timezone.utc).timestamp()}
    return {"type": "text", "value": str(value)}


def main():
    mode, path = sys.argv[1], sys.argv[2]
    if mode == "xlsx":
        with zipfile.ZipFile(path) as z:
            bad = z.testzip()
            names = z.namelist()
        book = openpyxl.load_workbook(path)
        sheets = []
        for ws in book.worksheets:
            rows = [[cell(c.value) for c in row] for row in ws.iter_rows()]
            bold = [bool(c.font and c.font.b) for c in ws[1]] if ws.max_row >= 1 else []
            widths = {k: v.width for k, v in ws.column_dimensions.items() if v.customWidth}
            sheets.append({"name": ws.title, "rows": rows, "bold": bold, "widths": widths,
                           "frozen": ws.freeze_panes})
        print(json.dumps({"sheets": sheets, "zip": {"crc": "ok" if bad is None else bad, "names": names}},
                         ensure_ascii=False))
    elif mode == "csv":
        raw = open(path, "rb").read()
        text = raw.decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text, newline="")))
        # Every record ends in CRLF (the test's fields hold no CRLF of their own).
        lines_end_crlf = raw.endswith(b"\r\n") and raw.count(b"\r\n") == len(rows)
        print(json.dumps({"bom": raw.startswith(b"\xef\xbb\xbf"), "crlf": lines_end_crlf, "rows": rows},
                         ensure_ascii=False))
    else:
        sys.exit(f"unknown mode {mode}")


main()

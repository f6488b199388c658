"""A plain reference for person-name matching, written from PS3.4 C.2.2.2 and PS3.18 8.3.4.4 independently of
Atrium's Swift code.

usage: reference_matcher.py FILE... < patterns
Each input line is "PATTERN<TAB>FUZZY" (FUZZY 1 or 0); each output line lists the Study Instance UIDs whose
Patient Name matches, separated by spaces. Rules: case-insensitive; a pattern without "=" may match the whole
value or any one component group; a pattern with "=" matches group by group; fuzzy: every word of the pattern is
a prefix of some name component, ignoring case and accents.
"""
import re
import sys
import unicodedata
from fnmatch import fnmatchcase

import pydicom


def fold(text, fuzzy):
    if not fuzzy:
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def trim(group):
    return group.rstrip("^ ")


def matches(pattern, value, fuzzy):
    p, v = fold(pattern, fuzzy), fold(value, fuzzy)
    if fuzzy:
        tokens = [t for t in re.split(r"[\^= ,]", p) if t and t != "*"]
        components = [c for c in re.split(r"[\^= ]", v) if c]
        return all(any(fnmatchcase(c, t + "*") for c in components) for t in tokens)
    groups = [trim(g) for g in v.split("=")]
    if "=" in p:
        for i, g in enumerate(p.split("=")):
            g = trim(g)
            if g and not fnmatchcase(groups[i] if i < len(groups) else "", g):
                return False
        return True
    p = trim(p)
    return fnmatchcase(v, p) or any(g and fnmatchcase(g, p) for g in groups)


def main():
    names = {}
    for path in sys.argv[1:]:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        names[ds.StudyInstanceUID] = str(ds.PatientName)
    for line in sys.stdin.read().split("\n"):
        if not line:
            continue
        pattern, fuzzy = line.split("\t")
        hits = sorted(uid for uid, name in names.items() if matches(pattern, name, fuzzy == "1"))
        print(" ".join(hits))


if __name__ == "__main__":
    main()

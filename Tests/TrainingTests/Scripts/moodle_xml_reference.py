#!/usr/bin/env python3
"""Independent reference for MoodleXML: reads a Moodle XML quiz file with xml.etree.ElementTree and prints what a
choice-question importer should return, as JSON: {"questions": [...], "skipped": [[position, type, name]...]} or,
for a file that is not well-formed, {"error": {"line": L, "column": C}}. HTML is reduced to text with html.parser:
<br>, <p>, <div>, <li>, <tr> and headings (start or end) begin a new line, inline phrasing tags (<b>, <i>, <span>…)
leave nothing, as a browser renders them, other tags become a space, script and style are dropped, runs of spaces collapse, blank lines go.
"""
import json
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

BLOCK = {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4"}
INLINE = {"a", "abbr", "b", "bdi", "bdo", "big", "cite", "code", "em", "font", "i", "kbd", "mark", "q", "s", "samp", "small",
          "span", "strike", "strong", "sub", "sup", "tt", "u", "var"}


def gap(tag):
    return "\n" if tag in BLOCK else "" if tag in INLINE else " "


class Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out, self.skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        self.out.append(gap(tag))

    def handle_startendtag(self, tag, attrs):
        self.out.append(gap(tag))

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip -= 1
        self.out.append(gap(tag))

    def handle_data(self, data):
        if not self.skip:
            self.out.append(data)


def plain(text, fmt):
    text = text or ""
    if fmt != "html":
        return text.strip()
    parser = Text()
    parser.feed(text)
    parser.close()
    lines = ["".join(parser.out)][0].replace("\xa0", " ").split("\n")
    lines = [" ".join(line.split()) for line in lines]
    return "\n".join(line for line in lines if line)


def text_of(element, path):
    node = element.find(path)
    return (node.text or "") if node is not None else ""


def main():
    try:
        root = ET.parse(sys.argv[1]).getroot()
    except ET.ParseError as error:
        line, column = error.position
        print(json.dumps({"error": {"line": line, "column": column}}))
        return
    questions, skipped, category = [], [], None
    for position, q in enumerate(root.findall("question"), start=1):
        kind = q.get("type", "")
        name = text_of(q, "name/text").strip()
        if kind == "category":
            category = text_of(q, "category/text").strip()
            continue
        if kind not in ("multichoice", "truefalse"):
            skipped.append([position, kind, name])
            continue
        choices = []
        for a in q.findall("answer"):
            fb = a.find("feedback")
            choices.append({"text": plain(text_of(a, "text"), a.get("format", "html")),
                            "fraction": float(a.get("fraction")) / 100,
                            "feedback": plain(text_of(a, "feedback/text"), fb.get("format", "html") if fb is not None else "html")})
        single = kind == "truefalse" or text_of(q, "single").strip().lower() in ("true", "1", "")
        qt = q.find("questiontext")
        gf = q.find("generalfeedback")
        questions.append({
            "type": kind, "name": name,
            "text": plain(text_of(q, "questiontext/text"), qt.get("format", "html") if qt is not None else "html"),
            "single": single, "choices": choices,
            "tags": [t.text.strip() for t in q.findall("tags/tag/text") if t.text and t.text.strip()],
            "generalFeedback": plain(text_of(q, "generalfeedback/text"), gf.get("format", "html") if gf is not None else "html"),
            "defaultGrade": float(text_of(q, "defaultgrade") or 1), "category": category, "position": position,
        })
    print(json.dumps({"questions": questions, "skipped": skipped}, ensure_ascii=False))


main()

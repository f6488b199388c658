#!/usr/bin/env python3
"""Independent programme indicators from raw facts, with Python's datetime and statistics modules.

Usage: indicator_reference.py FACTS_JSON
FACTS_JSON: {"now": seconds, "year": Y, "institutions": [...], "consultations": [{"site","received","deadline","final","studies"}],
"cases": [{"institution","created","published"}], "training": [{"institution","completed"}],
"exams": [{"institution","submitted","passed","first"}],
"health": [{"institution","date"}]} (examinations, assessments and follow-ups), "placements": [{"trainee","partner","first","last"}],
"teaching": [{"person","institution","first","last"}], "inspections": [{"institution","date"}]; times in seconds since 1970,
null when absent. Placements and teaching span [first, last] (last: the start of the last day, or the moment itself).
Prints {"<institution or *>|<month or 0>|<indicator key>": value or null} for the year (month 0) and each month, for the
whole alliance (*) and each institution. Periods are calendar months in UTC+8 (the alliance's local time).
"""
import datetime
import json
import statistics
import sys

data = json.load(open(sys.argv[1]))
tz = datetime.timezone(datetime.timedelta(hours=8))
now = data["now"]
year = data["year"]


def local(seconds):
    return datetime.datetime.fromtimestamp(seconds, tz)


def in_period(seconds, month):
    if seconds is None:
        return False
    moment = local(seconds)
    return moment.year == year and (month == 0 or moment.month == month)


def before_year(seconds):
    return local(seconds).year < year


def up_to_period_end(seconds, month):
    moment = local(seconds)
    if month == 0:
        return moment.year <= year
    return (moment.year, moment.month) <= (year, month)


def bounds(month):
    """The first instant of the period and the first after it, as seconds."""
    if month == 0:
        start, end = datetime.datetime(year, 1, 1, tzinfo=tz), datetime.datetime(year + 1, 1, 1, tzinfo=tz)
    else:
        start = datetime.datetime(year, month, 1, tzinfo=tz)
        end = datetime.datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
    return start.timestamp(), end.timestamp()


def overlaps(record, month):
    start, end = bounds(month)
    return record["first"] < end and record["last"] >= start


out = {}
for institution in ["*"] + data["institutions"]:
    def mine(records, field="institution"):
        return [r for r in records if institution == "*" or r[field] == institution]

    consultations = mine(data["consultations"], "site")
    cases = mine(data["cases"])
    training = mine(data["training"])
    exams = mine(data["exams"])
    health = mine(data.get("health", []))
    uses = mine(data.get("libraryUse", []))
    courses = mine(data.get("courses", []))
    placements = mine(data.get("placements", []), "partner")
    teaching = mine(data.get("teaching", []))
    inspections = mine(data.get("inspections", []))
    for month in range(0, 13):
        key = f"{institution}|{month}|"
        requests = [c for c in consultations if in_period(c["received"], month)]
        out[key + "consultations"] = float(len(requests))
        hours = [(c["final"] - c["received"]) / 3600 for c in requests if c["final"] is not None]
        out[key + "consultations.turnaround-median"] = statistics.median(hours) if hours else None
        breached = [c for c in requests if (c["final"] > c["deadline"] if c["final"] is not None else now > c["deadline"])]
        out[key + "consultations.breach-rate"] = 100 * len(breached) / len(requests) if requests else None
        out[key + "library.cases-added"] = float(sum(1 for c in cases if in_period(c["created"], month)))
        out[key + "library.cases-published"] = float(sum(1 for c in cases if in_period(c["published"], month)))
        before = sum(1 for c in cases if before_year(c["created"]))
        added = sum(1 for c in cases if local(c["created"]).year == year and up_to_period_end(c["created"], month))
        out[key + "library.growth"] = 100 * added / before if before else None
        out[key + "training.person-times"] = float(sum(1 for t in training if in_period(t["completed"], month)))
        out[key + "health.service-person-times"] = float(sum(1 for h in health if in_period(h["date"], month)))
        views = [u for u in uses if u["kind"] == "view" and in_period(u["date"], month)]
        practices = [u for u in uses if u["kind"] == "practice" and in_period(u["date"], month)]
        out[key + "library.case-views"] = float(len(views))
        out[key + "library.practice-attempts"] = float(len(practices))
        out[key + "library.distinct-students"] = float(len({u["person"] for u in views + practices}))
        out[key + "courses.published"] = float(sum(1 for c in courses if in_period(c["published"], month)))
        # The partner contribution columns: distinct people teaching, distinct trainees placed, inspections.
        out[key + "contributions.studies-sent"] = float(len({s for c in consultations if in_period(c["received"], month)
                                                             for s in c.get("studies", [])}))
        out[key + "contributions.part-time-teachers"] = float(len({t["person"] for t in teaching if overlaps(t, month)}))
        out[key + "contributions.trainees-hosted"] = float(len({p["trainee"] for p in placements if overlaps(p, month)}))
        out[key + "contributions.inspections"] = float(sum(1 for i in inspections if in_period(i["date"], month)))
        firsts = [e for e in exams if e["first"] and in_period(e["submitted"], month)]
        out[key + "exams.pass-rate"] = 100 * sum(1 for e in firsts if e["passed"]) / len(firsts) if firsts else None
print(json.dumps(out))

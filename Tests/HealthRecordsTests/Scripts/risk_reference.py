#!/usr/bin/env python3
"""Independent risk computations for a population of residents, from the published numbers, not from Atrium.

Usage: risk_reference.py POPULATION_JSON
POPULATION_JSON: [{"sex": "male"|"female", "age", "sbp", "dbp", "treated", "tc", "hdl" (mmol/L), "waist" (cm),
"height" (cm), "weight" (kg), "smoker", "diabetes", "north", "urban", "fh_ascvd", "fh_diabetes"}, ...]
Prints a list of {"china_par": percent or null, "china_par_category", "cdrs": total or null, "cdrs_high",
"cdrs_items": {"age", "bmi", "waist", "sbp", "sex", "family"} or null, "bmi",
"bmi_class", "waist_class", "bp_class", "isolated_systolic"} in the same order; null where the person's inputs are
outside the model's derivation range.

China-PAR: Yang X et al., Circulation 2016;134:1430-1440, Supplemental Table 1 (two-decimal coefficients), with the
men's six continuous coefficients taken from the table's worked example's coefficient x value column and the women's
baseline survival solved from the women's worked example (docs/health.md gives the reasoning).
CDRS: Zhou X et al., Diabetes Care 2013;36:3944-3952; points as tabulated in the Chinese type 2 diabetes guideline.
BMI/waist: WS/T 428-2013. Blood pressure: Chinese hypertension guideline 2018, Table 3.
"""
import json
import math
import sys

LN60, LN130 = math.log(60), math.log(130)
MEN = {
    "ln_age": 130.88 / LN60, "ln_sbp_treated": 27.39, "ln_sbp_untreated": 127.28 / LN130,
    "ln_tc": 3.32 / math.log(210), "ln_hdl": -2.78 / math.log(55), "ln_waist": -3.12 / math.log(80),
    "smoker": 3.96, "diabetes": 0.36, "north": 0.48, "urban": -0.16, "fh": 6.22,
    "x_sbp_treated": -6.02, "x_sbp_untreated": -114.21 / (LN60 * LN130), "x_smoker": -0.94, "x_fh": -1.53,
    "mean": 140.68, "s10": 0.9707,
}
WOMEN = {
    "ln_age": 24.87, "ln_sbp_treated": 20.71, "ln_sbp_untreated": 19.98, "ln_tc": 0.06, "ln_hdl": -0.22,
    "ln_waist": 1.48, "smoker": 0.49, "diabetes": 0.57, "north": 0.54, "urban": 0.0, "fh": 0.0,
    "x_sbp_treated": -4.53, "x_sbp_untreated": -4.36, "x_smoker": 0.0, "x_fh": 0.0,
    "mean": 117.26, "s10": 0.9851,
}


def china_par(p):
    if not (35 <= p["age"] <= 74 and 70 <= p["sbp"] <= 260 and 1 <= p["tc"] <= 20 and 0.2 <= p["hdl"] <= 5
            and 40 <= p["waist"] <= 200):
        return None
    c = MEN if p["sex"] == "male" else WOMEN
    la, ls = math.log(p["age"]), math.log(p["sbp"])
    tc, hdl = p["tc"] / 0.0259, p["hdl"] / 0.0259
    kind = "treated" if p["treated"] else "untreated"
    s = (c["ln_age"] * la + c["ln_sbp_" + kind] * ls + c["ln_tc"] * math.log(tc) + c["ln_hdl"] * math.log(hdl)
         + c["ln_waist"] * math.log(p["waist"]) + c["smoker"] * p["smoker"] + c["diabetes"] * p["diabetes"]
         + c["north"] * p["north"] + c["urban"] * p["urban"] + c["fh"] * p["fh_ascvd"]
         + c["x_sbp_" + kind] * la * ls + c["x_smoker"] * la * p["smoker"] + c["x_fh"] * la * p["fh_ascvd"])
    return 100 * (1 - c["s10"] ** math.exp(s - c["mean"]))


def band(value, table):
    """table: [(lower bound inclusive, points)] ascending; points of the highest bound reached."""
    points = 0
    for bound, p in table:
        if value >= bound:
            points = p
    return points


def cdrs(p, bmi):
    items = cdrs_items(p, bmi)
    return None if items is None else sum(items.values())


def cdrs_items(p, bmi):
    if not (20 <= p["age"] <= 74 and 10 <= bmi <= 70 and 40 <= p["waist"] <= 200 and 70 <= p["sbp"] <= 260):
        return None
    age = band(p["age"], [(20, 0), (25, 4), (35, 8), (40, 11), (45, 12), (50, 13), (55, 15), (60, 16), (65, 18)])
    b = band(bmi, [(0, 0), (22, 1), (24, 3), (30, 5)])
    if p["sex"] == "male":
        w = band(p["waist"], [(0, 0), (75, 3), (80, 5), (85, 7), (90, 8), (95, 10)])
    else:
        w = band(p["waist"], [(0, 0), (70, 3), (75, 5), (80, 7), (85, 8), (90, 10)])
    s = band(p["sbp"], [(0, 0), (110, 1), (120, 3), (130, 6), (140, 7), (150, 8), (160, 10)])
    return {"age": age, "bmi": b, "waist": w, "sbp": s, "sex": 2 if p["sex"] == "male" else 0,
            "family": 6 if p["fh_diabetes"] else 0}


def bmi_class(bmi):
    shown = round(bmi * 10) / 10
    if shown < 18.5:
        return "underweight"
    if shown < 24:
        return "normal"
    if shown < 28:
        return "overweight"
    return "obese"


def waist_class(sex, waist):
    pre, central = (85, 90) if sex == "male" else (80, 85)
    return "central-obesity" if waist >= central else "pre-central-obesity" if waist >= pre else "normal"


def bp_class(sbp, dbp):
    names = ["normal", "high-normal", "grade-1", "grade-2", "grade-3"]
    s = sum(1 for bound in (120, 140, 160, 180) if sbp >= bound)
    d = sum(1 for bound in (80, 90, 100, 110) if dbp >= bound)
    return names[max(s, d)]


out = []
for p in json.load(open(sys.argv[1])):
    bmi = p["weight"] / (p["height"] / 100) ** 2
    risk = china_par(p)
    score = cdrs(p, bmi)
    out.append({
        "china_par": risk,
        "china_par_category": None if risk is None else ("low" if risk < 5 else "intermediate" if risk < 10 else "high"),
        "cdrs": score, "cdrs_high": None if score is None else score >= 25, "cdrs_items": cdrs_items(p, bmi),
        "bmi": bmi, "bmi_class": bmi_class(bmi), "waist_class": waist_class(p["sex"], p["waist"]),
        "bp_class": bp_class(p["sbp"], p["dbp"]), "isolated_systolic": p["sbp"] >= 140 and p["dbp"] < 90,
    })
print(json.dumps(out))

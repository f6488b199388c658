#!/usr/bin/env python3
"""The seeded set of short answers of bench/originality.sh, in Chinese and English.

make_answers.py OUT.json [SEED] writes [{"id", "text", "language", "family", "kind"}]. Each language has SOURCES
answers written from slot-filled clause templates (so that independent answers about similar cases share phrases, as
students' answers do), and for each source one copy (identical apart from spacing, punctuation and full-width
letters), one lightly edited version (one or two words swapped for synonyms, one clause dropped or two swapped) and
one paraphrase (most words replaced by synonyms, the clauses reordered and reworded); plus INDEPENDENT answers of
their own. Answers of one family (a source and what was derived from it) are the true positive pairs.
"""
import json
import random
import re
import sys

SOURCES, INDEPENDENT = 30, 60

EN = {
    "templates": [
        "a {size} {shape} nodule is seen in the {lobe}",
        "there is {amount} pleural effusion on the {side}",
        "the {organ} is {state}",
        "{finding} is noted in the {lobe}",
        "no {negative} is seen",
        "the heart size is {heart}",
        "the costophrenic angle on the {side} is {angle}",
        "{advice} is recommended",
        "the findings suggest {diagnosis}",
        "there is {amount} thickening of the {side} pleura",
    ],
    "slots": {
        "size": ["5 mm", "8 mm", "12 mm", "15 mm", "2 cm", "3 cm"],
        "shape": ["round", "spiculated", "lobulated", "irregular", "well defined", "ground glass"],
        "lobe": ["left upper lobe", "right upper lobe", "right middle lobe", "left lower lobe", "right lower lobe", "lingula"],
        "amount": ["a small", "a moderate", "a large", "a trace of", "mild"],
        "side": ["left", "right", "both sides"],
        "organ": ["mediastinum", "trachea", "left hilum", "right hilum", "aortic arch"],
        "state": ["central", "normal", "enlarged", "slightly widened", "unremarkable"],
        "finding": ["consolidation", "a cavity", "atelectasis", "an air bronchogram", "patchy opacity", "calcification"],
        "negative": ["pneumothorax", "rib fracture", "free air", "lymphadenopathy", "cardiomegaly"],
        "heart": ["normal", "at the upper limit of normal", "mildly enlarged"],
        "angle": ["sharp", "blunted", "obscured"],
        "advice": ["contrast enhanced CT", "follow up in three months", "PET CT", "biopsy", "comparison with prior films"],
        "diagnosis": ["primary lung cancer", "pneumonia", "tuberculosis", "a benign granuloma", "heart failure", "metastases"],
    },
    "synonyms": {
        "seen": "visible", "noted": "observed", "small": "minor", "large": "big", "recommended": "advised",
        "suggest": "indicate", "nodule": "lesion", "enlarged": "dilated", "normal": "within normal limits",
        "there is": "we see", "thickening": "thickened tissue", "is noted": "can be seen", "sharp": "clear",
        "moderate": "medium", "findings": "appearances", "pleural effusion": "fluid in the pleural space",
        "blunted": "rounded off", "no": "there is no", "unremarkable": "normal looking",
    },
}
ZH = {
    "templates": [
        "{lobe}见一{size}{shape}结节",
        "{side}胸腔{amount}积液",
        "{organ}{state}",
        "{lobe}可见{finding}",
        "未见{negative}",
        "心影{heart}",
        "{side}肋膈角{angle}",
        "建议{advice}",
        "考虑{diagnosis}",
        "{side}胸膜{amount}增厚",
    ],
    "slots": {
        "size": ["约5毫米", "约8毫米", "约1.2厘米", "约1.5厘米", "约2厘米", "约3厘米"],
        "shape": ["类圆形", "分叶状", "毛刺状", "不规则", "边界清楚的", "磨玻璃"],
        "lobe": ["左肺上叶", "右肺上叶", "右肺中叶", "左肺下叶", "右肺下叶", "舌段"],
        "amount": ["少量", "中等量", "大量", "微量", "轻度"],
        "side": ["左侧", "右侧", "双侧"],
        "organ": ["纵隔", "气管", "左肺门", "右肺门", "主动脉弓"],
        "state": ["居中", "未见异常", "增大", "稍增宽", "形态正常"],
        "finding": ["实变影", "空洞", "肺不张", "支气管充气征", "斑片状模糊影", "钙化灶"],
        "negative": ["气胸", "肋骨骨折", "膈下游离气体", "淋巴结肿大", "心脏增大"],
        "heart": ["大小正常", "饱满", "轻度增大"],
        "angle": ["锐利", "变钝", "显示不清"],
        "advice": ["增强CT检查", "三个月后复查", "PET-CT检查", "穿刺活检", "与旧片对比"],
        "diagnosis": ["周围型肺癌", "肺炎", "肺结核", "良性肉芽肿", "心力衰竭", "转移瘤"],
    },
    "synonyms": {
        "见": "可见", "可见": "显示", "结节": "结节影", "积液": "液体", "未见": "没有发现", "建议": "推荐",
        "考虑": "提示", "增大": "扩大", "正常": "未见异常", "增厚": "肥厚", "少量": "小量", "大量": "多量",
        "锐利": "清晰", "变钝": "模糊", "居中": "位置居中", "左侧": "左边", "右侧": "右边", "双侧": "两侧",
    },
}
FULL_WIDTH = {c: chr(ord(c) + 0xFEE0) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"}


def clauses(lang, rng, count):
    out = []
    for template in rng.sample(lang["templates"], count):
        text = template
        for slot, values in lang["slots"].items():
            text = text.replace("{" + slot + "}", rng.choice(values), 1)
        out.append(text)
    return out


def join(lang_code, parts):
    if lang_code == "en":
        return ". ".join(p[0].upper() + p[1:] for p in parts) + "."
    return "，".join(parts) + "。"


def substitute(lang, text, rng, share, limit=None):
    """Replaces words by their synonyms in one pass (a replacement is never replaced again)."""
    keys = sorted(lang["synonyms"], key=len, reverse=True)
    boundary = r"\b" if lang is EN else ""
    pattern = re.compile("|".join(boundary + re.escape(k) + boundary for k in keys))
    done = [0]

    def replace(match):
        if (limit is None or done[0] < limit) and rng.random() < share:
            done[0] += 1
            return lang["synonyms"][match.group(0)]
        return match.group(0)

    return pattern.sub(replace, text)


def variants(code, lang, parts, rng):
    source = join(code, parts)
    # Copy: the same words; spacing, punctuation and letter width changed.
    copy = source.replace(". ", ".  ").replace("，", ",") if rng.random() < 0.5 else "".join(FULL_WIDTH.get(c, c) if rng.random() < 0.3 else c for c in source)
    # Light edit: one clause dropped or two swapped, and one or two synonyms.
    edited_parts = list(parts)
    if rng.random() < 0.5 and len(edited_parts) > 3:
        edited_parts.pop(rng.randrange(len(edited_parts)))
    else:
        i, j = rng.sample(range(len(edited_parts)), 2)
        edited_parts[i], edited_parts[j] = edited_parts[j], edited_parts[i]
    edited = substitute(lang, join(code, edited_parts), rng, 0.3, limit=2)
    # Paraphrase: clauses reordered, most words replaced.
    shuffled = list(parts)
    rng.shuffle(shuffled)
    paraphrase = join(code, [substitute(lang, p, rng, 0.9) for p in shuffled])
    return source, copy, edited, paraphrase


def main():
    out_path = sys.argv[1]
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 20261206)
    answers = []
    for code, lang in (("en", EN), ("zh", ZH)):
        for s in range(SOURCES):
            parts = clauses(lang, rng, rng.randint(4, 6))
            family = f"{code}-f{s}"
            for kind, text in zip(("source", "copied", "edited", "paraphrased"), variants(code, lang, parts, rng)):
                answers.append({"id": f"{family}-{kind}", "text": text, "language": code, "family": family, "kind": kind})
        for s in range(INDEPENDENT):
            parts = clauses(lang, rng, rng.randint(4, 6))
            answers.append({"id": f"{code}-i{s}", "text": join(code, parts), "language": code, "family": f"{code}-i{s}",
                            "kind": "independent"})
    rng.shuffle(answers)
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(answers, f, ensure_ascii=False, indent=1)


main()

#!/usr/bin/env python3
"""The load of bench/exam.sh.

Usage: exam_client.py setup BASE ADMIN_TOKEN TEACHER_TOKEN STUDENTS QUESTIONS STATE_JSON
       exam_client.py run BASE STATE_JSON SECONDS [burst]
       exam_client.py check BASE STATE_JSON

setup: students and their tokens (through the administration API), the questions (imported in the bank's JSON
format), the exam, and each student's attempt. run: the students answer at once, in processes of threads, each with
its own HTTP connection; every acknowledged answer is written to STATE_JSON.acks with its latency. check: every
question's last acknowledged answer is what the server stores; prints the latency figures.
"""
import json
import multiprocessing
import os
import random
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests


def session(token):
    s = requests.Session()
    s.headers["Authorization"] = "Bearer " + token
    adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=1, max_retries=0)
    s.mount("http://", adapter)
    return s


def setup(base, admin_token, teacher_token, n_students, n_questions, state_path):
    admin, teacher = session(admin_token), session(teacher_token)
    bank = {"format": "atrium-question-bank", "version": 1, "questions": [
        {"kind": "single-choice", "stem": f"Question {i}", "choices": [
            {"id": "a", "text": "A", "correct": True}, {"id": "b", "text": "B", "correct": False},
            {"id": "c", "text": "C", "correct": False}]} for i in range(n_questions)]}
    r = teacher.post(base + "/api/training/questions/import", data=json.dumps(bank), timeout=60)
    r.raise_for_status()
    ids = r.json()["ids"]
    r = teacher.post(base + "/api/training/exams", json={"settings": {"title": "Load", "forms": [ids], "timeLimitSeconds": 7200}}, timeout=60)
    r.raise_for_status()
    exam = r.json()["id"]
    started = time.monotonic()

    def student(i):
        name = f"bench-student-{i}"
        own = requests.Session()
        own.headers["Authorization"] = admin.headers["Authorization"]
        r = own.post(base + "/api/admin/people", json={"username": name, "password": "bench password " + name, "roles": ["student"]}, timeout=120)
        r.raise_for_status()
        r = own.post(base + "/api/admin/tokens", json={"username": name, "name": "bench"}, timeout=120)
        r.raise_for_status()
        token = r.json()["token"]
        s = session(token)
        r = s.post(base + f"/api/training/exams/{exam}/attempts", timeout=120)
        r.raise_for_status()
        attempt = r.json()["id"]
        r = s.get(base + f"/api/training/attempts/{attempt}", timeout=120)
        r.raise_for_status()
        return {"name": name, "token": token, "attempt": attempt, "order": [q["id"] for q in r.json()["questions"]]}

    with ThreadPoolExecutor(8) as pool:
        students = list(pool.map(student, range(n_students)))
    print(f"setup: {n_students} students with attempts, {n_questions} questions, in {time.monotonic() - started:.1f} s", flush=True)
    json.dump({"exam": exam, "students": students}, open(state_path, "w"))


def answer_loop(base, students, seconds, out_path, seed, burst):
    random.seed(seed)
    lock = threading.Lock()
    acks = []
    errors = {"retries": 0, "refused": 0}
    deadline = time.monotonic() + seconds

    def one(student):
        s = session(student["token"])
        order = student["order"]
        plan = [(q, random.choice("abc")) for q in order]
        # A fifth of the answers are changed once more, later.
        plan += [(q, random.choice("abc")) for q in random.sample(order, max(1, len(order) // 5))]
        think = 0 if burst else 2 * seconds / max(1, len(plan))
        sequence = 0
        for question, choice in plan:
            time.sleep(random.uniform(0, think))
            if time.monotonic() > deadline:
                break
            sequence += 1
            body = {"answer": {"choices": [choice]}, "sequence": sequence}
            url = base + f"/api/training/attempts/{student['attempt']}/answers/{question}"
            while True:
                started = time.monotonic()
                try:
                    r = s.put(url, json=body, timeout=30)
                except requests.RequestException:
                    with lock:
                        errors["retries"] += 1
                    time.sleep(0.2)
                    s = session(student["token"])
                    if time.monotonic() > deadline + 120:
                        break
                    continue
                elapsed = time.monotonic() - started
                if r.status_code == 200:
                    with lock:
                        acks.append([student["attempt"], question, choice, sequence, elapsed, r.json()["stored"]])
                elif r.status_code >= 500 or r.status_code == 503:
                    with lock:
                        errors["retries"] += 1
                    time.sleep(0.2)
                    continue
                else:
                    with lock:
                        errors["refused"] += 1
                break

    threads = [threading.Thread(target=one, args=(student,)) for student in students]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    json.dump({"acks": acks, "errors": errors}, open(out_path, "w"))


def run(base, state_path, seconds, burst=False):
    state = json.load(open(state_path))
    students = state["students"]
    processes = 4
    chunks = [students[i::processes] for i in range(processes)]
    started = time.monotonic()
    jobs = [multiprocessing.Process(target=answer_loop, args=(base, chunk, seconds, f"{state_path}.acks{i}", i, burst))
            for i, chunk in enumerate(chunks)]
    for job in jobs:
        job.start()
    for job in jobs:
        job.join()
    print(f"run: {len(students)} students answered for {time.monotonic() - started:.1f} s", flush=True)


def check(base, state_path):
    state = json.load(open(state_path))
    acks, retries, refused = [], 0, 0
    i = 0
    while os.path.exists(f"{state_path}.acks{i}"):
        part = json.load(open(f"{state_path}.acks{i}"))
        acks += part["acks"]
        retries += part["errors"]["retries"]
        refused += part["errors"]["refused"]
        i += 1
    latencies = sorted(a[4] * 1000 for a in acks)
    last = {}
    for attempt, question, choice, sequence, _, stored in acks:
        key = (attempt, question)
        if key not in last or sequence > last[key][1]:
            last[key] = (choice, sequence)
    missing = wrong = 0
    for student in state["students"]:
        s = session(student["token"])
        r = s.get(base + f"/api/training/attempts/{student['attempt']}", timeout=60)
        r.raise_for_status()
        stored = r.json()["answers"]
        for (attempt, question), (choice, sequence) in last.items():
            if attempt != student["attempt"]:
                continue
            entry = stored.get(str(question))
            if entry is None:
                missing += 1
            elif entry["answer"]["choices"] != [choice] or entry["sequence"] != sequence:
                wrong += 1
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else float("nan")
    print(f"answers acknowledged: {len(acks)} ({len(last)} questions answered), retried after a connection error or 5xx: {retries}, refused: {refused}")
    print(f"save latency: median {statistics.median(latencies) if latencies else float('nan'):.1f} ms, p90 {p(0.90):.1f} ms, "
          f"p99 {p(0.99):.1f} ms, max {latencies[-1] if latencies else float('nan'):.1f} ms")
    print(f"check: {len(last) - missing - wrong} of {len(last)} last acknowledged answers stored as sent; missing {missing}, different {wrong}")
    if missing or wrong or refused:
        sys.exit(1)


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "setup":
        setup(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]), sys.argv[7])
    elif command == "run":
        run(sys.argv[2], sys.argv[3], float(sys.argv[4]), burst=len(sys.argv) > 5 and sys.argv[5] == "burst")
    elif command == "check":
        check(sys.argv[2], sys.argv[3])
    else:
        sys.exit("usage: exam_client.py setup|run|check …")

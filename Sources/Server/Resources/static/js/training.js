// Exams: taking an attempt (every answer saved on the server as it is given, retried until it is), the proctor's live
// view, and the grading page. Strings come from the page's training-strings block (locales/training.*.json).
import { csrfToken } from "./app.js";

const strings = JSON.parse(document.getElementById("training-strings")?.textContent || "{}");
const t = (key) => strings[key] ?? key;

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken(), Accept: "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let data = {};
  try { data = text ? JSON.parse(text) : {}; } catch { data = { error: text }; }
  return { status: response.status, data };
}

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "text") node.textContent = value;
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

// MARK: - Taking an attempt

function takeAttempt(form) {
  const attemptID = form.dataset.attempt;
  // Answers are saved as they are given; the form itself is never submitted (Enter in a text answer does nothing).
  form.addEventListener("submit", (event) => event.preventDefault());
  const state = document.getElementById("save-state");
  const container = document.getElementById("questions");
  const pending = new Map(); // question id → {answer, sequence}
  let lastSequence = 0;
  let closed = false;
  let deadlineAt = 0; // performance.now() at the deadline
  let flushing = false;

  function show(kind) {
    state.dataset.state = kind;
    state.dataset.pending = String(pending.size);
    state.textContent = t(`take.${kind}`);
  }

  function close() {
    closed = true;
    for (const input of form.querySelectorAll("input, textarea, select, button")) input.disabled = true;
    document.getElementById("finished").hidden = false;
  }

  function queue(questionID, answer) {
    if (closed) return;
    lastSequence = Math.max(lastSequence + 1, Date.now());
    pending.set(String(questionID), { answer, sequence: lastSequence });
    flush();
  }

  async function flush() {
    if (flushing || pending.size === 0) return;
    flushing = true;
    show("saving");
    try {
      while (pending.size > 0) {
        const [questionID, entry] = pending.entries().next().value;
        let result;
        try {
          result = await api("PUT", `/api/training/attempts/${attemptID}/answers/${questionID}`, entry);
        } catch {
          show("offline");
          setTimeout(() => { flushing = false; flush(); }, 1000);
          return;
        }
        if (result.status === 409) {
          pending.clear();
          show("closed");
          close();
          break;
        }
        if (result.status >= 500 || result.status === 0) {
          show("offline");
          setTimeout(() => { flushing = false; flush(); }, 1000);
          return;
        }
        // Stored (or a newer write is already there): done with this one unless it changed meanwhile.
        if (pending.get(questionID) === entry) pending.delete(questionID);
      }
      if (!closed) show("saved");
    } finally {
      flushing = false;
    }
  }

  function imageFor(question, index, onSlices) {
    const image = element("img", { class: "question-image", alt: "", "data-slice": "" });
    let slices = 1;
    async function load(slice) {
      const url = `/api/training/attempts/${attemptID}/questions/${question.id}/images/${index}` + (slice ? `?slice=${slice}` : "");
      const response = await fetch(url);
      if (!response.ok) return;
      slices = Number(response.headers.get("X-Atrium-Slices") || "1");
      image.dataset.slice = response.headers.get("X-Atrium-Slice") || "1";
      const blob = await response.blob();
      image.src = URL.createObjectURL(blob);
      onSlices?.(slices, Number(image.dataset.slice));
    }
    load(null);
    return { image, load };
  }

  function render(question, saved) {
    const content = question.content;
    const box = element("fieldset", { class: "question", "data-question": question.id, "data-kind": content.kind });
    box.append(element("legend", { text: `${question.position}. ${content.stem} (${question.maximum} ${t("take.points")})` }));
    const answer = saved?.answer ?? {};
    switch (content.kind) {
      case "single-choice":
      case "multiple-choice": {
        const type = content.kind === "single-choice" ? "radio" : "checkbox";
        for (const choice of content.choices) {
          const input = element("input", { type, name: `q${question.id}`, value: choice.id, class: "choice" });
          input.checked = (answer.choices ?? []).includes(choice.id);
          input.addEventListener("change", () => {
            const chosen = [...box.querySelectorAll("input.choice:checked")].map((i) => i.value);
            queue(question.id, { choices: chosen });
          });
          box.append(element("label", { class: "choice-label" }, input, document.createTextNode(" " + choice.text)));
        }
        break;
      }
      case "hotspot": {
        const marker = element("span", { class: "marker", hidden: true });
        const slider = element("input", { type: "range", min: "1", max: "1", value: "1", class: "slice-slider", "aria-label": t("take.slice") });
        const label = element("span", { class: "slice-label" });
        const { image, load } = imageFor(question, 0, (count, slice) => {
          slider.max = String(count);
          slider.value = String(slice);
          label.textContent = `${t("take.slice")} ${slice} / ${count}`;
        });
        slider.addEventListener("change", () => load(Number(slider.value)));
        const frame = element("div", { class: "hotspot" }, image, marker);
        image.addEventListener("click", (event) => {
          const scaleX = image.naturalWidth / image.clientWidth;
          const scaleY = image.naturalHeight / image.clientHeight;
          const click = { slice: Number(image.dataset.slice || "1"), x: event.offsetX * scaleX, y: event.offsetY * scaleY };
          marker.hidden = false;
          marker.style.left = `${event.offsetX}px`;
          marker.style.top = `${event.offsetY}px`;
          box.dataset.click = JSON.stringify(click);
          queue(question.id, { click });
        });
        if (answer.click) box.dataset.click = JSON.stringify(answer.click);
        box.append(element("p", { class: "muted", text: t("take.clickHint") }), frame, element("div", {}, slider, label));
        break;
      }
      case "report": {
        for (const [i] of content.images.entries()) box.append(imageFor(question, i).image);
        const area = element("textarea", { rows: "6", class: "report-text", "aria-label": t("take.report") });
        area.value = answer.text ?? "";
        let timer;
        area.addEventListener("input", () => {
          clearTimeout(timer);
          timer = setTimeout(() => queue(question.id, { text: area.value }), 600);
        });
        area.addEventListener("blur", () => { clearTimeout(timer); queue(question.id, { text: area.value }); });
        box.append(area);
        break;
      }
      case "image-quality": {
        for (const [i] of content.images.entries()) box.append(imageFor(question, i).image);
        for (const criterion of content.criteria) {
          const select = element("select", { "data-criterion": criterion.id, class: "rating" }, element("option", { value: "", text: t("take.choose") }));
          for (let v = 1; v <= criterion.scale; v++) select.append(element("option", { value: String(v), text: String(v) }));
          select.value = String(answer.ratings?.[criterion.id] ?? "");
          select.addEventListener("change", () => {
            const ratings = {};
            for (const s of box.querySelectorAll("select.rating")) if (s.value) ratings[s.dataset.criterion] = Number(s.value);
            queue(question.id, { ratings });
          });
          box.append(element("label", { class: "criterion" }, document.createTextNode(criterion.name + " "), select));
        }
        break;
      }
      case "positioning": {
        for (const [i] of content.images.entries()) box.append(imageFor(question, i).image);
        const save = () => {
          const settings = {};
          for (const input of box.querySelectorAll(".setting")) if (input.value.trim()) settings[input.dataset.setting] = input.value.trim();
          queue(question.id, { settings });
        };
        for (const setting of content.settings) {
          let input;
          if (setting.options.length > 0) {
            input = element("select", { "data-setting": setting.id, class: "setting" }, element("option", { value: "", text: t("take.choose") }));
            for (const option of setting.options) input.append(element("option", { value: option, text: option }));
            input.addEventListener("change", save);
          } else {
            input = element("input", { type: "text", inputmode: "decimal", size: "8", "data-setting": setting.id, class: "setting" });
            input.addEventListener("change", save);
          }
          input.value = answer.settings?.[setting.id] ?? "";
          const label = element("label", { class: "criterion" }, document.createTextNode(setting.name + " "), input);
          if (setting.unit) label.append(document.createTextNode(" " + setting.unit));
          box.append(label);
        }
        break;
      }
      case "matching": {
        const rights = content.pairs.map((p) => p.right);
        for (const pair of content.pairs) {
          const select = element("select", { "data-pair": pair.id, class: "match" }, element("option", { value: "", text: t("take.choose") }));
          for (const right of rights) select.append(element("option", { value: right, text: right }));
          select.value = answer.matches?.[pair.id] ?? "";
          select.addEventListener("change", () => {
            const matches = {};
            for (const s of box.querySelectorAll("select.match")) if (s.value) matches[s.dataset.pair] = s.value;
            queue(question.id, { matches });
          });
          box.append(element("label", { class: "criterion" }, document.createTextNode(`${pair.left} ${t("take.matchTo")} `), select));
        }
        break;
      }
      case "ordering": {
        const list = element("ol", { class: "ordering" });
        const byID = new Map(content.items.map((item) => [item.id, item]));
        const initial = (answer.order ?? []).filter((id) => byID.has(id));
        for (const item of content.items) if (!initial.includes(item.id)) initial.push(item.id);
        const save = () => queue(question.id, { order: [...list.children].map((li) => li.dataset.item) });
        for (const id of initial) {
          const up = element("button", { type: "button", class: "small up", text: t("take.moveUp") });
          const down = element("button", { type: "button", class: "small down", text: t("take.moveDown") });
          const li = element("li", { "data-item": id }, document.createTextNode(byID.get(id).text + " "), up, down);
          up.addEventListener("click", () => { if (li.previousElementSibling) { list.insertBefore(li, li.previousElementSibling); save(); } });
          down.addEventListener("click", () => { if (li.nextElementSibling) { list.insertBefore(li.nextElementSibling, li); save(); } });
          list.append(li);
        }
        // An order the student agrees with as shown is given by this button (moving an item gives it too).
        const keep = element("button", { type: "button", class: "small keep-order", text: t("take.keepOrder") });
        keep.addEventListener("click", save);
        box.append(list, keep);
        break;
      }
    }
    if (content.kind === "single-choice" || content.kind === "multiple-choice") {
      for (const [i] of content.images.entries()) box.insertBefore(imageFor(question, i).image, box.children[1]);
    }
    return box;
  }

  function tick() {
    const left = Math.max(0, deadlineAt - performance.now());
    const clock = document.getElementById("time-left");
    const seconds = Math.floor(left / 1000);
    // An exam without a time limit or closing time has its deadline in the distant future.
    if (seconds > 366 * 24 * 3600) {
      clock.textContent = t("take.noLimit");
      clock.dataset.seconds = "";
      return;
    }
    clock.textContent = `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
    clock.dataset.seconds = String(seconds);
    if (left <= 0 && !closed) {
      show("closed");
      close();
      return;
    }
    if (!closed) setTimeout(tick, 500);
  }

  async function load() {
    const { status, data } = await api("GET", `/api/training/attempts/${attemptID}`);
    if (status !== 200) {
      state.textContent = data.error ?? data.reason ?? String(status);
      return;
    }
    document.getElementById("exam-instructions").textContent = data.instructions;
    for (const question of data.questions) container.append(render(question, data.answers[String(question.id)]));
    for (const saved of Object.values(data.answers)) lastSequence = Math.max(lastSequence, saved.sequence);
    form.dataset.loaded = "true";
    deadlineAt = performance.now() + data.remainingMilliseconds;
    if (data.finished) {
      close();
      show("closed");
    } else {
      show("saved");
      tick();
    }
  }

  document.getElementById("submit-attempt").addEventListener("click", async () => {
    if (!window.confirm(t("take.confirmSubmit"))) return;
    while (pending.size > 0 && !closed) {
      await flush();
      if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const { status } = await api("POST", `/api/training/attempts/${attemptID}/submit`);
    if (status === 200) {
      show("saved");
      close();
      form.dataset.submitted = "true";
    }
  });
  window.addEventListener("online", () => flush());
  load();
}

// MARK: - Proctor

function proctor(section) {
  const rows = document.getElementById("progress-rows");
  async function poll() {
    try {
      const { status, data } = await api("GET", `/api/training/exams/${section.dataset.exam}/progress`);
      if (status === 200) {
        rows.replaceChildren(
          ...data.attempts.map((a) =>
            element(
              "tr",
              { "data-student": a.student, "data-answered": a.answered },
              element("td", { text: a.student }),
              element("td", { class: "num", text: `${a.answered} / ${a.questions}` }),
              element("td", { class: "num", text: a.finished ? "—" : String(a.remainingSeconds) }),
              element("td", { text: a.lastSavedAt ? new Date(a.lastSavedAt).toLocaleTimeString() : "—" }),
              element("td", { text: t(a.submitted ? "proctor.submitted" : a.finished ? "proctor.timeUp" : "proctor.running") }),
            ),
          ),
        );
        section.dataset.polled = String(Number(section.dataset.polled || "0") + 1);
      }
    } finally {
      setTimeout(poll, 2000);
    }
  }
  poll();
}

// MARK: - Grading

function grading() {
  for (const card of document.querySelectorAll(".attempt-grade")) {
    const attemptID = card.dataset.attempt;
    const stateText = card.querySelector(".grade-state");
    for (const block of card.querySelectorAll(".report-grade")) {
      block.querySelector(".save-grade").addEventListener("click", async () => {
        const awards = {};
        for (const input of block.querySelectorAll("input[data-criterion]")) if (input.value !== "") awards[input.dataset.criterion] = Number(input.value);
        const comment = block.querySelector(".grade-comment").value;
        const { status, data } = await api("PUT", `/api/training/attempts/${attemptID}/grades/${block.dataset.question}`, { awards, comment });
        stateText.textContent = status === 200 ? t("grade.saved") : data.reason ?? data.error ?? String(status);
        if (status === 200) {
          card.querySelector(".score").textContent = `${data.score} / ${data.maximum}`;
          card.querySelector(".score").dataset.score = String(data.score);
          block.dataset.saved = "true";
        }
      });
    }
    card.querySelector(".save-feedback").addEventListener("click", async () => {
      const feedback = card.querySelector(".attempt-feedback").value;
      const { status } = await api("PUT", `/api/training/attempts/${attemptID}/feedback`, { feedback });
      stateText.textContent = status === 200 ? t("grade.saved") : String(status);
      if (status === 200) card.dataset.feedbackSaved = "true";
    });
  }
}

// The bank's Moodle XML import: the file goes to the API as it is; the page lists what was skipped and why.
function moodleImport(section) {
  const state = section.querySelector("#moodle-state");
  const list = section.querySelector("#moodle-skipped");
  section.querySelector("#moodle-button").addEventListener("click", async () => {
    const file = section.querySelector("#moodle-file").files[0];
    if (!file) return;
    const response = await fetch("/api/training/questions/import/moodle", {
      method: "POST",
      headers: { "Content-Type": "application/xml", "X-CSRF-Token": csrfToken(), Accept: "application/json" },
      body: await file.arrayBuffer(),
    });
    const text = await response.text();
    let data = {};
    try { data = JSON.parse(text); } catch { data = { error: text }; }
    list.replaceChildren();
    if (!response.ok) {
      state.textContent = data.error || data.reason || text || String(response.status);
      section.dataset.state = "failed";
      return;
    }
    state.textContent = `${t("bank.moodleDone")} ${(data.ids || []).length} · ${t("bank.moodleSkipped")} ${(data.skipped || []).length}`;
    for (const skip of data.skipped || []) {
      list.append(element("li", { "data-position": String(skip.position) }, `${skip.position}. ${skip.name} (${skip.type}): ${skip.reason}`));
    }
    section.dataset.state = "done";
    section.dataset.imported = String((data.ids || []).length);
  });
}

// The bank's hotspot editor: the teacher drags on the case's first key image to draw the region (a rectangle or an
// ellipse, kept in image pixels as the question model has it), moves through the series' slices and sets the region's
// first and last slice. The numbers stay editable, so a region can also be typed.
function hotspotEditor(form) {
  const editor = form.querySelector("#hotspot-editor");
  const kind = form.querySelector("#question-kind");
  const caseSelect = form.querySelector("#question-case");
  const choices = form.querySelector("#choices-label");
  const image = editor.querySelector("#hotspot-image");
  const shape = editor.querySelector("#hotspot-shape");
  const draw = editor.querySelector("#hotspot-draw");
  const slider = editor.querySelector("#hotspot-slider");
  const sliceLabel = editor.querySelector("#hotspot-slice-label");
  const state = editor.querySelector("#hotspot-state");
  const shapeSelect = editor.querySelector("#region-shape");
  const field = (name) => editor.querySelector(`#region-${name}`);
  const hotspotKind = [...kind.options].find((o) => o.id === "kind-hotspot")?.value;
  let loading = 0;

  function showShape() {
    const [x, y, width, height] = ["x", "y", "width", "height"].map((n) => Number(field(n).value));
    const first = Number(field("first").value);
    const last = Number(field("last").value || field("first").value);
    const current = Number(image.dataset.slice || "0");
    const visible = image.naturalWidth > 0 && width > 0 && height > 0 && current >= first && current <= last;
    shape.hidden = !visible;
    if (!visible) return;
    const sx = image.clientWidth / image.naturalWidth;
    const sy = image.clientHeight / image.naturalHeight;
    Object.assign(shape.style, {
      left: `${x * sx}px`, top: `${y * sy}px`, width: `${width * sx}px`, height: `${height * sy}px`,
      borderRadius: shapeSelect.value === "ellipse" ? "50%" : "0",
    });
  }

  async function load(slice) {
    const id = caseSelect.value;
    const ticket = ++loading;
    editor.dataset.loaded = "false";
    if (!id) { image.removeAttribute("src"); state.textContent = t("bank.chooseCase"); return; }
    const response = await fetch(`/api/training/cases/${id}/images/0` + (slice ? `?slice=${slice}` : ""));
    if (ticket !== loading) return;
    if (!response.ok) { image.removeAttribute("src"); state.textContent = t("bank.noImage"); return; }
    const count = response.headers.get("X-Atrium-Slices") || "1";
    const current = response.headers.get("X-Atrium-Slice") || "1";
    const url = URL.createObjectURL(await response.blob());
    await new Promise((resolve) => { image.onload = resolve; image.onerror = resolve; image.src = url; });
    if (ticket !== loading) return;
    image.dataset.slice = current;
    slider.max = count;
    slider.value = current;
    sliceLabel.textContent = `${t("take.slice")} ${current} / ${count}`;
    state.textContent = "";
    editor.dataset.loaded = "true";
    showShape();
  }

  function toggle() {
    const hotspot = kind.value === hotspotKind;
    editor.hidden = !hotspot;
    // Labels are blocks in the form's style, which outweighs the hidden attribute.
    choices.style.display = hotspot ? "none" : "";
    if (hotspot && editor.dataset.loaded !== "true") load(null);
  }

  // Dragging: the corners in the image's displayed pixels, kept inside it, scaled to the image's own pixels.
  let start = null;
  function point(event) {
    const box = image.getBoundingClientRect();
    return {
      x: Math.min(Math.max(event.clientX - box.left, 0), box.width), y: Math.min(Math.max(event.clientY - box.top, 0), box.height), box,
    };
  }
  function update(a, b) {
    const scaleX = image.naturalWidth / a.box.width;
    const scaleY = image.naturalHeight / a.box.height;
    const round = (v) => String(Math.round(v * 100) / 100);
    field("x").value = round(Math.min(a.x, b.x) * scaleX);
    field("y").value = round(Math.min(a.y, b.y) * scaleY);
    field("width").value = round(Math.abs(b.x - a.x) * scaleX);
    field("height").value = round(Math.abs(b.y - a.y) * scaleY);
    showShape();
  }
  draw.addEventListener("dragstart", (event) => event.preventDefault());
  draw.addEventListener("pointerdown", (event) => {
    if (!image.naturalWidth) return;
    event.preventDefault();
    start = point(event);
    draw.setPointerCapture?.(event.pointerId);
    // A region drawn on a slice outside the current range starts a new range on this slice.
    const current = Number(image.dataset.slice || "1");
    const first = Number(field("first").value);
    const last = Number(field("last").value);
    if (!first || !last || current < first || current > last) {
      field("first").value = String(current);
      field("last").value = String(current);
    }
  });
  draw.addEventListener("pointermove", (event) => { if (start) update(start, point(event)); });
  draw.addEventListener("pointerup", (event) => {
    if (!start) return;
    update(start, point(event));
    start = null;
    editor.dataset.drawn = "true";
  });

  editor.querySelector("#region-first-here").addEventListener("click", () => {
    field("first").value = image.dataset.slice || "1";
    if (Number(field("last").value) < Number(field("first").value)) field("last").value = field("first").value;
    showShape();
  });
  editor.querySelector("#region-last-here").addEventListener("click", () => {
    field("last").value = image.dataset.slice || "1";
    if (!field("first").value || Number(field("first").value) > Number(field("last").value)) field("first").value = field("last").value;
    showShape();
  });
  for (const name of ["x", "y", "width", "height", "first", "last"]) field(name).addEventListener("input", showShape);
  shapeSelect.addEventListener("change", showShape);
  slider.addEventListener("change", () => load(Number(slider.value)));
  caseSelect.addEventListener("change", () => { editor.dataset.loaded = "false"; if (!editor.hidden) load(null); });
  kind.addEventListener("change", toggle);
  window.addEventListener("resize", showShape);
  toggle();
}

const questionForm = document.getElementById("question-form");
if (questionForm && document.getElementById("hotspot-editor")) hotspotEditor(questionForm);
const moodle = document.getElementById("moodle-import");
if (moodle) moodleImport(moodle);
const attempt = document.getElementById("attempt");
if (attempt) takeAttempt(attempt);
const proctorSection = document.getElementById("proctor");
if (proctorSection) proctor(proctorSection);
if (document.getElementById("grading")) grading();

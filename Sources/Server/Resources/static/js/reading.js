// The consultation pages: the sites' requests, the request form, a request's page, the readers' worklist with live
// updates (Server-Sent Events), and the reporting pane with its autosaved draft.
import { csrfToken } from "./app.js";

const strings = JSON.parse(document.getElementById("reading-strings")?.textContent || "{}");
const t = (key, values = {}) => (strings[key] ?? key).replace(/\{(\w+)\}/g, (_, name) => values[name] ?? "");

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken(), Accept: "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!response.ok) {
    const message = typeof data?.error === "string" ? data.error : data?.error?.message;
    const error = new Error(message ?? `${response.status}`);
    error.status = response.status;
    throw error;
  }
  return data;
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function show(problem, message) {
  if (!problem) return;
  problem.textContent = message;
  problem.hidden = !message;
}

/** "2 h 5 min", or "overdue 3 min" once the deadline has passed. */
function timeLeft(deadline, now = Date.now()) {
  const seconds = Math.floor((Date.parse(deadline) - now) / 1000);
  const magnitude = Math.abs(seconds);
  const text = magnitude >= 3600 ? `${Math.floor(magnitude / 3600)} h ${Math.floor((magnitude % 3600) / 60)} min`
    : `${Math.floor(magnitude / 60)} min ${magnitude % 60} s`;
  return seconds < 0 ? `${t("message.overdue")} ${text}` : text;
}

function tickTimes() {
  for (const cell of document.querySelectorAll(".time-left[data-deadline]")) {
    if (cell.dataset.open === "true") cell.textContent = timeLeft(cell.dataset.deadline);
  }
}

/** Server push: calls `onChange(change)` for each change; reconnects by itself (EventSource). */
function subscribe(onChange, indicator) {
  const source = new EventSource("/api/worklist/events");
  source.addEventListener("open", () => { if (indicator) indicator.dataset.state = "live"; });
  source.addEventListener("error", () => { if (indicator) indicator.dataset.state = "reconnecting"; });
  source.addEventListener("change", (event) => {
    try { onChange(JSON.parse(event.data)); } catch { /* a malformed event is ignored */ }
  });
  window.addEventListener("pagehide", () => source.close());
  return source;
}

function debounce(fn, ms) {
  let timer = null;
  return () => { clearTimeout(timer); timer = setTimeout(fn, ms); };
}

// MARK: - Sites' list and request page

function consultationsPage() {
  setInterval(tickTimes, 1000);
  subscribe(debounce(() => location.reload(), 150));
}

function requestPage(root) {
  setInterval(tickTimes, 1000);
  const id = Number(root.dataset.request);
  document.getElementById("withdraw")?.addEventListener("click", async () => {
    await api("POST", `/api/consultations/${id}/withdraw`);
    location.reload();
  });
  for (const button of document.querySelectorAll("button.acknowledge")) {
    button.addEventListener("click", async () => {
      button.disabled = true;
      await api("POST", `/api/critical/${button.dataset.critical}/acknowledge`);
      location.reload();
    });
  }
  attachForm(document.getElementById("attach-form"), id);
  const review = document.getElementById("peer-review-form");
  review?.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api("POST", `/api/reports/${review.dataset.report}/peer-review`, {
        score: review.elements.score.value, comment: review.elements.comment.value,
      });
      location.reload();
    } catch (error) {
      show(document.getElementById("peer-problem"), error.message);
    }
  });
  const reload = debounce(() => location.reload(), 150);
  subscribe((change) => { if (change.requestID === id) reload(); });
}

/** A file's bytes as base64 (without the data: URL prefix). */
function base64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ""));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

/** Attaching files on a request's page: multipart/form-data to the attachments API. */
function attachForm(form, id) {
  form?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const problem = document.getElementById("attach-problem");
    const body = new FormData();
    for (const file of form.elements.file.files) body.append("file", file, file.name);
    body.append("storeAs", form.elements.attachDICOM.checked ? "dicom" : "file");
    const response = await fetch(`/api/consultations/${id}/attachments`, {
      method: "POST", body, credentials: "same-origin", headers: { "X-CSRF-Token": csrfToken(), Accept: "application/json" },
    });
    if (response.ok) { location.reload(); return; }
    const data = await response.json().catch(() => null);
    show(problem, (typeof data?.error === "string" ? data.error : data?.error?.message) ?? `${response.status}`);
  });
}

function newRequestPage(form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const problem = document.getElementById("request-problem");
    const studies = [...form.querySelectorAll("input[name=study]:checked")].map((box) => box.value);
    const value = (name) => form.elements[name].value.trim();
    if (studies.length === 0 && !value("accessionNumber")) { show(problem, t("message.chooseStudy")); return; }
    try {
      // Attachments go with the request as base64, so that a refused file leaves no request behind.
      const storeAs = form.elements.attachDICOM?.checked ? "dicom" : "file";
      const attachments = await Promise.all([...(form.elements.attachments?.files ?? [])].map(async (file) => ({
        filename: file.name, data: await base64(file), storeAs,
      })));
      const created = await api("POST", "/api/consultations", {
        studies, priority: value("priority"), serviceLine: value("serviceLine"), referringPhysician: value("referringPhysician"),
        accessionNumber: value("accessionNumber"), clinicalHistory: value("clinicalHistory"), question: value("question"),
        attachments,
      });
      location.href = `/consultations/${created.id}`;
    } catch (error) {
      show(problem, error.message);
    }
  });
}

// MARK: - Worklist

function worklistPage(form) {
  const rows = document.getElementById("worklist-rows");
  const counts = document.getElementById("worklist-counts");
  const problem = document.getElementById("worklist-problem");
  const me = form.dataset.me;
  const senior = form.dataset.senior === "true";

  async function act(verb, item) {
    try {
      const answer = await api("POST", `/api/worklist/${item}/${verb}`);
      if (verb === "claim" && answer.reportID) { location.href = `/reports/${answer.reportID}`; return; }
      await load();
    } catch (error) {
      show(problem, error.status === 409 ? `${t("message.conflict")}: ${error.message}` : error.message);
      await load();
    }
  }

  function row(entry) {
    const item = entry.workItem;
    const mine = item.owner === me;
    const actions = [];
    const forSomeoneElse = item.assignee && item.assignee !== me;
    if (item.state === "SCHEDULED" && !forSomeoneElse) actions.push(el("button", { class: "button small primary claim", type: "button", onclick: () => act("claim", item.id) }, t("action.claim")));
    if (item.state === "IN PROGRESS" && mine) {
      actions.push(el("button", { class: "button small primary open", type: "button", onclick: () => act("claim", item.id) }, t("action.open")));
      actions.push(el("button", { class: "button small secondary release", type: "button", onclick: () => act("release", item.id) }, t("action.release")));
    }
    if (item.state === "IN PROGRESS" && !mine && senior) {
      actions.push(el("button", { class: "button small secondary break", type: "button", onclick: () => act("break", item.id) }, t("action.breakLock")));
    }
    const open = item.state === "SCHEDULED" || item.state === "IN PROGRESS";
    return el("tr", { "data-request": entry.id, "data-item": item.id, "data-state": item.state, class: `time-${entry.timeLeft} priority-row-${entry.priority}` },
      el("td", {}, el("a", { href: `/consultations/${entry.id}` }, `#${entry.id}`)),
      el("td", {}, el("span", { class: `priority priority-${entry.priority}` }, t(`priority.${entry.priority}`))),
      el("td", { class: "item-state" }, t(`state.${item.state.replace(" ", "_")}`)),
      el("td", {}, `${entry.patientName.replaceAll("^", " ")} `, el("span", { class: "muted" }, entry.patientID)),
      el("td", {}, `${entry.modality} ${entry.bodyPart}`),
      el("td", {}, entry.institution),
      el("td", {}, entry.question),
      el("td", { class: "time-left nowrap", "data-deadline": entry.deadline, "data-open": String(open) }, open ? timeLeft(entry.deadline) : "—"),
      el("td", { class: "item-owner" }, item.ownerName ?? ""),
      el("td", { class: "nowrap" }, actions));
  }

  async function load() {
    const parameters = new URLSearchParams();
    for (const field of form.elements) if (field.name && field.value) parameters.set(field.name, field.value);
    try {
      const answer = await api("GET", `/api/worklist?${parameters}`);
      rows.replaceChildren(...answer.entries.map(row));
      const c = answer.counts;
      counts.replaceChildren(
        el("span", { id: "count-total" }, `${t("field.all")}: ${c.total}`), " · ",
        ...["stat", "urgent", "routine"].flatMap((p) => [el("span", { class: `priority priority-${p}`, id: `count-${p}` }, `${t(`priority.${p}`)}: ${c.priority[p]}`), " "]),
        " · ", el("span", { id: "count-scheduled" }, `${t("state.SCHEDULED")}: ${c.state["SCHEDULED"]}`),
        " · ", el("span", { id: "count-in-progress" }, `${t("state.IN_PROGRESS")}: ${c.state["IN PROGRESS"]}`));
      rows.dataset.loaded = String(Date.now());
    } catch (error) {
      show(problem, error.message);
    }
  }

  for (const field of form.elements) field.addEventListener("change", load);
  form.addEventListener("submit", (event) => { event.preventDefault(); load(); });
  load();
  setInterval(tickTimes, 1000);
  subscribe(debounce(load, 50), document.getElementById("live-indicator"));
}

// MARK: - Reporting

function reportPage(root) {
  const reportID = Number(root.dataset.report);
  const itemID = Number(root.dataset.item);
  const container = document.getElementById("report-sections");
  const saveState = document.getElementById("save-state");
  const problem = document.getElementById("report-problem");
  let report = null;
  let dirty = false;
  let saving = false;

  const sections = () => [...container.querySelectorAll(".report-section")].map((section) => ({
    kind: section.dataset.kind, title: section.dataset.title, text: section.querySelector("textarea").value,
  }));

  function render(data) {
    report = data;
    const signed = data.status === "final" || data.status === "amended";
    document.getElementById("report-state").dataset.status = data.status;
    document.getElementById("report-state").textContent = t(`status.${{ draft: "in-progress", preliminary: "preliminary", final: "final", amended: "amended" }[data.status]}`);
    container.replaceChildren(...data.sections.map((section, index) => {
      const area = el("textarea", { id: `section-${section.kind}`, rows: section.kind === "findings" ? 8 : 3, readonly: signed }, );
      area.value = section.text;
      area.addEventListener("input", () => { dirty = true; saveState.dataset.state = "dirty"; saveState.textContent = t("message.saving"); });
      const phrases = (data.phrases?.[section.kind] ?? []).map((phrase) => el("button", {
        type: "button", class: "button small secondary phrase", disabled: signed,
        onclick: () => { area.value = (area.value ? area.value + "\n" : "") + phrase; dirty = true; saveState.dataset.state = "dirty"; },
      }, phrase));
      return el("div", { class: "report-section stack", "data-kind": section.kind, "data-title": section.title, "data-index": index },
        el("label", { for: `section-${section.kind}` }, section.title), area, phrases.length ? el("div", { class: "phrases" }, phrases) : null);
    }));
    document.getElementById("sign-block").hidden = signed;
    document.getElementById("addendum-block").hidden = !signed;
    document.getElementById("report-versions").replaceChildren(...data.versions.map((v) => el("li", { class: `version version-${v.kind}` },
      `v${v.version} · ${v.kind} · ${v.signedByName} · ${v.signedAt}`, v.text ? el("p", { class: "addendum-text" }, v.text) : null)));
    document.getElementById("critical-list").replaceChildren(...data.criticalResults.map((c) => el("li", { class: "critical-result" },
      `${c.finding} — ${c.flaggedByName} ${c.flaggedAt} `, c.acknowledgedBy ? t("message.acknowledged", { by: c.acknowledgedBy, at: c.acknowledgedAt }) : t("message.unacknowledged"))));
  }

  async function load() { render(await api("GET", `/api/reports/${reportID}`)); }

  async function save() {
    if (!dirty || saving || !report || report.status === "final" || report.status === "amended") return;
    saving = true;
    dirty = false;
    try {
      await api("PUT", `/api/reports/${reportID}/draft`, { sections: sections() });
      saveState.textContent = `${t("message.saved")} ${new Date().toLocaleTimeString()}`;
      saveState.dataset.savedAt = String(Date.now());
      // "saved" only when nothing was typed while the request was in flight; typing sets "dirty" again.
      if (!dirty) saveState.dataset.state = "saved";
    } catch (error) {
      dirty = true;
      saveState.textContent = error.status === 409 ? `${t("message.conflict")}: ${error.message}` : t("message.offline");
    } finally {
      saving = false;
    }
  }

  async function submit(path, body) {
    show(problem, "");
    try {
      await save();
      await api("POST", path, body);
      await load();
    } catch (error) {
      show(problem, error.message);
    }
  }

  document.getElementById("preliminary")?.addEventListener("click", () => submit(`/api/reports/${reportID}/preliminary`, { sections: sections() }));
  document.getElementById("sign")?.addEventListener("click", () => submit(`/api/reports/${reportID}/sign`, {
    sections: sections(), password: document.getElementById("sign-password").value,
  }));
  document.getElementById("addendum")?.addEventListener("click", () => submit(`/api/reports/${reportID}/addenda`, {
    text: document.getElementById("addendum-text").value, password: document.getElementById("addendum-password").value,
  }));
  document.getElementById("release")?.addEventListener("click", async () => {
    await save();
    await api("POST", `/api/worklist/${itemID}/release`);
    location.href = "/worklist";
  });
  document.getElementById("flag-critical")?.addEventListener("click", async () => {
    const finding = document.getElementById("critical-finding");
    await submit(`/api/consultations/${root.dataset.request}/critical`, { finding: finding.value });
    finding.value = "";
  });

  document.getElementById("mark-teaching")?.addEventListener("click", async () => {
    const keyImages = [...document.querySelectorAll("input[name=key-image]:checked")].map((box) => box.value);
    const state = document.getElementById("teaching-state");
    try {
      const stored = await api("POST", `/api/reports/${reportID}/teaching`, { note: document.getElementById("teaching-note").value, keyImages });
      state.textContent = t("teaching.stored", { count: String(stored.keyImages) });
      state.dataset.stored = stored.sopInstanceUID;
    } catch (error) {
      state.textContent = error.message;
    }
  });
  load().catch((error) => show(problem, error.message));
  // At most a second or so of typing is ever only in the browser.
  setInterval(save, 1000);
  // The claim's heartbeat: the lease runs out only when this page is gone.
  setInterval(() => { if (report && report.status !== "final" && report.status !== "amended") api("POST", `/api/worklist/${itemID}/renew`).catch(() => {}); }, 20000);
  setInterval(tickTimes, 1000);
}

// One's own e-mail address for notifications (the consultations page).
const emailForm = document.getElementById("email-form");
emailForm?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const problem = document.getElementById("email-problem");
  const saved = document.getElementById("email-saved");
  problem.hidden = true;
  saved.hidden = true;
  try {
    await api("PUT", "/api/me/email", { email: document.getElementById("my-email").value.trim() });
    saved.textContent = emailForm.dataset.saved;
    saved.hidden = false;
  } catch (error) {
    show(problem, error.message);
  }
});

// MARK: - Assignment rules (administrators)

function rulesPage() {
  const form = document.getElementById("rule-form");
  const title = document.getElementById("rule-form-title");
  const problem = document.getElementById("rule-problem");
  const reset = () => {
    form.dataset.rule = "";
    title.textContent = title.dataset.new;
    form.elements.openCap.value = "10";
    for (const box of form.querySelectorAll("input[name=reader]")) box.checked = false;
    form.elements.doubleReading.checked = false;
    form.elements.modality.value = "";
  };
  reset();
  form.addEventListener("reset", () => setTimeout(reset, 0));
  for (const row of document.querySelectorAll("#rules tr.rule")) {
    row.querySelector(".edit-rule").addEventListener("click", () => {
      form.dataset.rule = row.dataset.rule;
      title.textContent = `${title.dataset.edit} #${row.dataset.rule}`;
      form.elements.serviceLine.value = row.dataset.serviceLine;
      form.elements.priority.value = row.dataset.priority;
      form.elements.modality.value = row.dataset.modality;
      form.elements.openCap.value = row.dataset.openCap;
      form.elements.doubleReading.checked = row.dataset.doubleReading === "true";
      const readers = new Set(row.dataset.readers.split(",").filter(Boolean));
      for (const box of form.querySelectorAll("input[name=reader]")) box.checked = readers.has(box.value);
      form.scrollIntoView();
    });
    row.querySelector(".delete-rule").addEventListener("click", async () => {
      if (!confirm(t("rules.confirmDelete"))) return;
      await api("DELETE", `/api/admin/reading-rules/${row.dataset.rule}`);
      location.reload();
    });
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {
      serviceLine: form.elements.serviceLine.value, priority: form.elements.priority.value,
      modality: form.elements.modality.value.trim(), openCap: Number(form.elements.openCap.value),
      readers: [...form.querySelectorAll("input[name=reader]:checked")].map((box) => box.value),
      doubleReading: form.elements.doubleReading.checked,
    };
    try {
      if (form.dataset.rule) await api("PUT", `/api/admin/reading-rules/${form.dataset.rule}`, body);
      else await api("POST", "/api/admin/reading-rules", body);
      location.reload();
    } catch (error) {
      show(problem, error.message);
    }
  });
  for (const box of document.querySelectorAll("input.on-duty")) {
    box.addEventListener("change", async () => {
      box.disabled = true;
      try {
        await api("PUT", `/api/admin/reader-profiles/${encodeURIComponent(box.dataset.reader)}`, { onDuty: box.checked });
        box.closest("tr").dataset.saved = String(box.checked);
      } catch (error) {
        box.checked = !box.checked;
      } finally {
        box.disabled = false;
      }
    });
  }
}

const root = document.querySelector("[data-page]");
switch (root?.dataset.page) {
  case "consultations": consultationsPage(root); break;
  case "request": requestPage(root); break;
  case "new-request": newRequestPage(root); break;
  case "worklist": worklistPage(root); break;
  case "report": reportPage(root); break;
  case "reading-rules": rulesPage(root); break;
  default: break;
}

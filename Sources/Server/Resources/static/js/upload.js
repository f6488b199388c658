// The upload page: sends each chosen file through the resumable upload protocol (docs/api.md): create a session,
// PUT chunks at byte offsets, ask the server's offset after an interruption and continue from there, then complete
// to have the server store it (a zip archive entry by entry). Results are listed per stored object.
import { csrfToken } from "./app.js";

const root = document.getElementById("upload");
const chunkBytes = Number(root.dataset.chunkBytes) || 4 * 1024 * 1024;
const bar = document.getElementById("upload-bar");
const progress = document.getElementById("upload-progress");
const progressText = document.getElementById("upload-progress-text");
const results = document.getElementById("upload-results");
const dropzone = document.getElementById("dropzone");

const statusText = {
  stored: root.dataset.statusStored,
  alreadyStored: root.dataset.statusAlreadyStored,
  replaced: root.dataset.statusReplaced,
  directory: root.dataset.statusDirectory,
  skipped: root.dataset.statusSkipped,
  failed: root.dataset.statusFailed,
};

const queue = [];
let running = false;
let totalBytes = 0;
let sentBytes = 0;

class UploadError extends Error {}

function headers(extra = {}) {
  return { "X-CSRF-Token": csrfToken(), ...extra };
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function showProgress(label) {
  const percent = totalBytes > 0 ? Math.floor((sentBytes / totalBytes) * 100) : 100;
  bar.style.width = `${percent}%`;
  progress.setAttribute("aria-valuenow", String(percent));
  progressText.textContent = `${label} · ${percent}%`;
}

const refusalText = {
  maximumEntryBytes: root.dataset.refusalMaximumEntryBytes,
  maximumArchiveBytes: root.dataset.refusalMaximumArchiveBytes,
  maximumCompressionRatio: root.dataset.refusalMaximumCompressionRatio,
  declaredSize: root.dataset.refusalDeclaredSize,
};

function formatBytes(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${units[unit]}`;
}

function addResult(item) {
  results.hidden = false;
  const row = results.tBodies[0].insertRow();
  row.dataset.status = item.status;
  const name = row.insertCell();
  name.textContent = item.name;
  if (typeof item.sizeBytes === "number") {
    const size = document.createElement("span");
    size.className = "muted small size";
    size.textContent = ` (${formatBytes(item.sizeBytes)})`;
    name.append(size);
  }
  const status = row.insertCell();
  status.className = `status-${item.status}`;
  status.textContent = statusText[item.status] ?? item.status;
  // A zip entry refused by an intake cap: said in the page's language, with the technical reason below.
  if (item.refusal) {
    const template = refusalText[item.refusal.cap];
    if (template) {
      const sizes = { size: formatBytes(item.refusal.declaredBytes), limit: item.refusal.cap === "maximumCompressionRatio" ? String(item.refusal.limit) : formatBytes(item.refusal.limit) };
      const refusal = document.createElement("div");
      refusal.className = "refusal";
      refusal.textContent = template.replace(/\{(size|limit)\}/g, (_, key) => sizes[key]);
      status.append(refusal);
    }
  }
  // Why an entry failed or was skipped (a refused zip entry names its sizes and the cap), shown, not only hovered.
  if (item.reason) {
    status.title = item.reason;
    const reason = document.createElement("div");
    reason.className = "muted small reason";
    reason.textContent = item.reason;
    status.append(reason);
  }
  const study = row.insertCell();
  if (item.studyInstanceUID) {
    const link = document.createElement("a");
    link.href = `/studies/${encodeURIComponent(item.studyInstanceUID)}`;
    link.textContent = root.dataset.textOpen;
    study.append(link);
  }
}

/** Sends one request, retrying with growing pauses while the network is down (a slow or flaky link). */
async function withRetry(action) {
  let pause = 500;
  for (let attempt = 0; ; attempt++) {
    try {
      return await action();
    } catch (error) {
      if (error instanceof UploadError || attempt >= 8) throw error;
      showProgress(root.dataset.textRetrying);
      await sleep(pause);
      pause = Math.min(pause * 2, 15000);
    }
  }
}

async function json(response) {
  const body = await response.json().catch(() => ({}));
  return { status: response.status, body };
}

/** The session of this file if an earlier attempt (even before a page reload) left one, else a new one. */
async function session(file, name) {
  const key = `atrium-upload:${name}:${file.size}:${file.lastModified}`;
  const known = localStorage.getItem(key);
  if (known) {
    const { status, body } = await json(await fetch(`/uploads/${known}`, { headers: headers() }));
    if (status === 200) return { key, id: known, offset: body.offset };
    localStorage.removeItem(key);
  }
  const { status, body } = await json(
    await fetch("/uploads", {
      method: "POST",
      headers: headers({ "Content-Type": "application/json" }),
      body: JSON.stringify({ name, size: file.size }),
    }),
  );
  if (status !== 201) throw new UploadError(body.error ?? `HTTP ${status}`);
  localStorage.setItem(key, body.id);
  return { key, id: body.id, offset: 0 };
}

async function send(file, name) {
  const { key, id, offset: start } = await withRetry(() => session(file, name));
  let offset = start;
  sentBytes += offset;
  while (offset < file.size) {
    const end = Math.min(offset + chunkBytes, file.size);
    const answer = await withRetry(async () =>
      json(await fetch(`/uploads/${id}?offset=${offset}`, { method: "PUT", headers: headers(), body: file.slice(offset, end) })),
    );
    if (answer.status === 200 || answer.status === 409) {
      // 409: the server holds a different amount (a chunk was lost or sent twice); continue from its offset.
      const next = answer.body.offset ?? offset;
      sentBytes += next - offset;
      offset = next;
    } else {
      throw new UploadError(answer.body.error ?? `HTTP ${answer.status}`);
    }
    showProgress(`${root.dataset.textSending} ${name}`);
  }
  // A scanner's slide file (SVS, NDPI, tiled TIFF…) is converted by the server with these patient and study attributes.
  const slide = {};
  for (const input of document.querySelectorAll("#slide-details input[data-keyword]")) {
    if (input.value.trim() !== "") slide[input.dataset.keyword] = input.value.trim();
  }
  const done = await withRetry(async () =>
    json(
      await fetch(`/uploads/${id}/complete`, {
        method: "POST",
        headers: headers({ "Content-Type": "application/json" }),
        body: JSON.stringify({ slide }),
      }),
    ),
  );
  localStorage.removeItem(key);
  if (done.status !== 200) throw new UploadError(done.body.error ?? `HTTP ${done.status}`);
  for (const item of done.body.results) addResult(item);
}

async function drain() {
  if (running) return;
  running = true;
  document.getElementById("progress-block").hidden = false;
  while (queue.length > 0) {
    const { file, name } = queue.shift();
    try {
      await send(file, name);
    } catch (error) {
      addResult({ name, status: "failed", reason: String(error.message ?? error) });
    }
  }
  sentBytes = totalBytes;
  showProgress(root.dataset.textDone);
  running = false;
  root.dataset.state = "done";
}

function enqueue(entries) {
  root.dataset.state = "running";
  for (const { file, name } of entries) {
    queue.push({ file, name });
    totalBytes += file.size;
  }
  drain();
}

for (const input of [document.getElementById("upload-files"), document.getElementById("upload-folder")]) {
  input.addEventListener("change", () => {
    enqueue([...input.files].map((file) => ({ file, name: file.webkitRelativePath || file.name })));
    input.value = "";
  });
}

/** Every file under a dropped folder (File and Directory Entries API). */
async function walk(entry, path) {
  if (entry.isFile) {
    const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
    return [{ file, name: path + entry.name }];
  }
  const reader = entry.createReader();
  const out = [];
  for (;;) {
    const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return out;
    for (const child of batch) out.push(...(await walk(child, `${path}${entry.name}/`)));
  }
}

dropzone.addEventListener("dragover", (event) => {
  event.preventDefault();
  dropzone.classList.add("over");
});
dropzone.addEventListener("dragleave", () => dropzone.classList.remove("over"));
dropzone.addEventListener("drop", async (event) => {
  event.preventDefault();
  dropzone.classList.remove("over");
  const entries = [...event.dataTransfer.items].map((item) => item.webkitGetAsEntry?.()).filter(Boolean);
  const files = [];
  for (const entry of entries) files.push(...(await walk(entry, "")));
  enqueue(files);
});

// The exchange page: sends a package (zip) chosen by the curator to the import API as it is, and lists what became of
// each case (new, or already in the library) and of the package's collection; a refusal shows the server's reason.
import { csrfToken } from "./app.js";

const root = document.getElementById("exchange-import");
const input = document.getElementById("exchange-file");
const button = document.getElementById("exchange-button");
const state = document.getElementById("exchange-state");
const results = document.getElementById("exchange-results");

function show(text, kind) {
  state.hidden = false;
  state.textContent = text;
  state.className = kind === "failed" ? "alert error" : "alert";
}

button.addEventListener("click", async () => {
  const file = input.files?.[0];
  if (!file) return;
  button.disabled = true;
  root.dataset.state = "busy";
  results.replaceChildren();
  show(root.dataset.busyLabel, "busy");
  try {
    const response = await fetch("/api/library/import", {
      method: "POST",
      headers: { "Content-Type": "application/zip", "X-CSRF-Token": csrfToken() },
      body: file,
    });
    const data = await response.json().catch(() => ({}));
    if (response.status !== 201) {
      const reason = typeof data.error === "string" ? data.error : data.error?.message;
      show(`${root.dataset.failedLabel}: ${reason ?? `HTTP ${response.status}`}`, "failed");
      root.dataset.state = "failed";
      return;
    }
    for (const item of data.cases ?? []) {
      const link = document.createElement("a");
      link.href = `/library/cases/${item.id}`;
      link.textContent = `#${item.id}`;
      const li = document.createElement("li");
      li.dataset.case = String(item.id);
      li.dataset.created = String(item.created);
      li.append(link, document.createTextNode(" · " + (item.created ? root.dataset.createdLabel : root.dataset.existingLabel)));
      results.append(li);
    }
    if (data.collection) {
      const link = document.createElement("a");
      link.href = `/library/collections/${data.collection}`;
      link.textContent = root.dataset.collectionLabel;
      const li = document.createElement("li");
      li.id = "exchange-collection";
      li.append(link);
      results.append(li);
    }
    show(`${data.created} / ${(data.cases ?? []).length} ${root.dataset.createdLabel}`, "done");
    root.dataset.created = String(data.created);
    root.dataset.state = "done";
  } catch (error) {
    show(`${root.dataset.failedLabel}: ${error}`, "failed");
    root.dataset.state = "failed";
  } finally {
    button.disabled = false;
  }
});

// The laboratory pages: a site files a laboratory consultation for the result set it is looking at, and records QC
// runs and control materials on the QC page.
import { csrfToken } from "./app.js";

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken(), Accept: "application/json" },
    body: JSON.stringify(body),
    credentials: "same-origin",
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new Error(data?.error?.message ?? data?.error ?? String(response.status));
  return data;
}

function showError(error) {
  const node = document.getElementById("lab-qc-error");
  node.textContent = error.message;
  node.hidden = false;
}

const runForm = document.getElementById("lab-run-form");
if (runForm) {
  runForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = {};
    for (const input of runForm.querySelectorAll(".lab-run-value")) {
      if (input.value !== "") values[input.dataset.material] = Number(input.value);
    }
    try {
      await post("/api/lab/qc/runs", { at: new Date(runForm.elements.at.value).toISOString().replace(/\.\d{3}Z$/, "Z"), values });
      window.location.reload();
    } catch (error) {
      showError(error);
    }
  });
}

const materialForm = document.getElementById("lab-material-form");
if (materialForm) {
  materialForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const f = materialForm.elements;
    try {
      await post("/api/lab/qc/materials", {
        analyte: f.analyte.value, loinc: f.loinc.value, name: f.name.value, lot: f.lot.value,
        mean: Number(f.mean.value), sd: Number(f.sd.value), unit: f.unit.value,
      });
      window.location.reload();
    } catch (error) {
      showError(error);
    }
  });
}

const form = document.getElementById("lab-request-form");
if (form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = document.getElementById("lab-request-error");
    error.hidden = true;
    const body = {
      priority: form.elements.priority.value,
      question: form.elements.question.value,
      clinicalHistory: form.elements.clinicalHistory.value,
      referringPhysician: form.elements.referringPhysician.value,
    };
    const response = await fetch(`/api/lab/result-sets/${encodeURIComponent(form.dataset.set)}/consultation`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken(), Accept: "application/json" },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      error.textContent = data?.error?.message ?? data?.error ?? String(response.status);
      error.hidden = false;
      return;
    }
    window.location.href = `/consultations/${data.id}`;
  });
}

// The critical-value list of /lab: the laboratory staff acknowledge a value that no consultation carries.
for (const button of document.querySelectorAll(".lab-critical-ack")) {
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await post(`/api/lab/critical-values/${encodeURIComponent(button.dataset.critical)}/acknowledge`, {});
      window.location.reload();
    } catch (error) {
      const node = document.getElementById("lab-critical-error");
      node.textContent = error.message;
      node.hidden = false;
      button.disabled = false;
    }
  });
}

// The laboratory result page: a site files a laboratory consultation for the result set it is looking at.
import { csrfToken } from "./app.js";

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

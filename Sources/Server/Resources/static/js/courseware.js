// Courses of modules: a teacher adds modules (files sent as multipart/form-data with the page's CSRF token), and each
// video reports to the server how far the learner watched, so that the "videos watched" rule can count it.
import { csrfToken } from "./app.js";

const form = document.getElementById("add-module");
if (form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = document.getElementById("module-error");
    error.hidden = true;
    const response = await fetch(`/api/ce/courses/${form.dataset.course}/modules`, {
      method: "POST",
      headers: { "X-CSRF-Token": csrfToken(), Accept: "application/json" },
      body: new FormData(form),
    });
    if (response.status === 201) {
      location.reload();
      return;
    }
    const text = await response.text();
    let message = text || `${response.status}`;
    try {
      const data = JSON.parse(text);
      message = data.error?.message ?? data.error ?? data.detail ?? data.title ?? text;
    } catch { /* not JSON: the text as it is */ }
    error.textContent = message;
    error.hidden = false;
    for (const button of form.querySelectorAll("button[type=submit]")) button.removeAttribute("aria-busy");
  });
}

/** Sends the position of `video` (seconds) to the server; `ended` when it played to its end. */
async function report(video, ended) {
  const duration = Number.isFinite(video.duration) ? video.duration : 0;
  const response = await fetch(`/api/ce/courses/${video.dataset.course}/modules/${video.dataset.module}/viewing`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken(), Accept: "application/json" },
    body: JSON.stringify({ position: video.currentTime, duration, ended }),
  });
  if (!response.ok) return;
  const course = await response.json();
  const item = video.closest(".ce-module");
  const watched = (course.watched ?? []).includes(Number(video.dataset.module));
  if (item) item.dataset.watched = String(watched);
  if (watched) item?.querySelector(".video-state")?.classList.add("status", "status-on-track");
  const percent = document.getElementById("ce-percent");
  if (percent && course.enrolment) percent.textContent = String(Math.round(course.enrolment.progress * 100));
  const count = document.getElementById("ce-watched");
  if (count && course.enrolment) count.textContent = String(course.enrolment.watched.length);
  const progress = document.querySelector("#ce-progress progress");
  if (progress && course.enrolment) progress.value = Math.round(course.enrolment.progress * 100);
  document.getElementById("ce-progress")?.setAttribute("data-completed", String(course.enrolment?.completedAt != null));
}

for (const video of document.querySelectorAll("video.ce-video")) {
  if (video.dataset.enrolled !== "true") continue;
  const start = Number(video.dataset.position) || 0;
  video.addEventListener("loadedmetadata", () => {
    // Resume where the learner stopped, unless that was the end.
    if (start > 0 && start < video.duration - 1) video.currentTime = start;
  }, { once: true });
  let last = 0;
  video.addEventListener("timeupdate", () => {
    if (video.currentTime - last >= 5 || video.currentTime < last) {
      last = video.currentTime;
      report(video, false);
    }
  });
  video.addEventListener("pause", () => { if (!video.ended) report(video, false); });
  video.addEventListener("ended", () => report(video, true));
}

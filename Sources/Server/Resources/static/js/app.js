// Behaviour shared by every page: the CSRF token for scripts, and a busy state on submitted forms.

/** The page's CSRF token, for state-changing requests made from scripts (sent as X-CSRF-Token). */
export function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.content ?? "";
}

for (const form of document.querySelectorAll("form")) {
  form.addEventListener("submit", () => {
    for (const button of form.querySelectorAll("button[type=submit]")) button.setAttribute("aria-busy", "true");
  });
}

// Progress bars whose width the server knows (`data-percent`): set through the CSSOM, which the policy's style-src
// does not govern, instead of a style attribute, which it refuses.
for (const bar of document.querySelectorAll(".bar[data-percent]")) {
  const percent = Math.max(0, Math.min(100, Number(bar.dataset.percent) || 0));
  bar.style.width = `${percent}%`;
}

// A share link made for the library: the absolute address, from this page's origin.
const shareField = document.getElementById("share-url");
if (shareField?.dataset.path) shareField.value = location.origin + shareField.dataset.path;

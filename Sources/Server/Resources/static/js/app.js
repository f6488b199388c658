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

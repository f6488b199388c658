// The print button of pages meant for paper (the printed report, a certificate, the programme report). It is a file
// of its own rather than an inline handler, so that the Content Security Policy can refuse every inline script.
for (const button of document.querySelectorAll("[data-print]")) {
  button.addEventListener("click", () => window.print());
}

// The case page's photo upload: the chosen JPEG is posted as the request body with the page's CSRF token; the server
// checks it, removes its metadata and stores it with the case. The page reloads to show it, or says why it was refused.

const form = document.getElementById('case-photos');
if (form) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = document.getElementById('case-photo-file');
    const problem = document.getElementById('case-photo-problem');
    const file = input.files && input.files[0];
    if (!file) return;
    problem.hidden = true;
    const response = await fetch(form.dataset.action, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'X-CSRF-Token': form.elements.csrf.value, 'Content-Type': file.type || 'application/octet-stream' },
      body: file,
    });
    if (response.ok) {
      location.reload();
      return;
    }
    let message = `HTTP ${response.status}`;
    try {
      const body = await response.json();
      message = (typeof body.error === 'string' ? body.error : body.error?.message) || body.message || body.reason || message;
    } catch {
      // not JSON: the status says enough
    }
    problem.textContent = message;
    problem.hidden = false;
  });
}

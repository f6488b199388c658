// Administration lists: fills a table from the JSON API named by its data-api attribute. Each header cell names the
// field it shows (data-field); arrays are joined with commas.
const table = document.getElementById("admin-table");

function cell(value) {
  const td = document.createElement("td");
  td.textContent = Array.isArray(value) ? value.join(", ") : value == null ? "" : String(value);
  return td;
}

function message(text) {
  const body = table.tBodies[0];
  body.replaceChildren();
  const row = body.insertRow();
  const td = cell(text);
  td.colSpan = table.tHead.rows[0].cells.length;
  td.className = "muted";
  row.append(td);
}

async function load() {
  const fields = [...table.tHead.rows[0].cells].map((th) => th.dataset.field);
  let response;
  try {
    response = await fetch(table.dataset.api, { headers: { Accept: "application/json" }, credentials: "same-origin" });
  } catch {
    message(table.dataset.unavailable);
    return;
  }
  if (!response.ok) {
    message(table.dataset.unavailable);
    return;
  }
  const data = await response.json();
  const rows = Array.isArray(data) ? data : data.items ?? [];
  if (rows.length === 0) {
    message(table.dataset.empty);
    return;
  }
  const body = table.tBodies[0];
  body.replaceChildren();
  for (const item of rows) body.insertRow().append(...fields.map((field) => cell(item[field])));
}

if (table) load();

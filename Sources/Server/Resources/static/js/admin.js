// Administration pages: fills a table from the JSON API named by its data-api attribute, and drives the pages' forms
// (new institution; new person, password reset, roles, disable and enable; new API token and revocation) through the
// same JSON API. Each header cell names the field it shows (data-field); arrays are joined with commas; a cell whose
// header has data-true / data-false shows those texts for booleans.
import { csrfToken } from "./app.js";

const table = document.getElementById("admin-table");
const errorBox = document.getElementById("admin-error");
const noticeBox = document.getElementById("admin-notice");

function cell(value, header) {
  const td = document.createElement("td");
  if (typeof value === "boolean" && header?.dataset.true !== undefined) {
    td.textContent = value ? header.dataset.true : header.dataset.false ?? "";
  } else {
    td.textContent = Array.isArray(value) ? value.join(", ") : value == null ? "" : String(value);
  }
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

/** Shows an error (or clears it with null) and hides the notice. */
function showError(text) {
  if (noticeBox) noticeBox.hidden = true;
  if (!errorBox) return;
  errorBox.textContent = text ?? "";
  errorBox.hidden = text == null;
}

function showNotice(text) {
  showError(null);
  if (!noticeBox) return;
  noticeBox.textContent = text;
  noticeBox.hidden = false;
}

/** Calls the JSON API with the page's CSRF token; returns the parsed answer or throws an Error carrying the server's reason. */
async function call(method, url, body) {
  let response;
  try {
    response = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new Error(errorBox?.dataset.offline ?? "");
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const reason = data?.error?.message ?? data?.error ?? (text || `HTTP ${response.status}`);
    throw new Error(`${errorBox?.dataset.refused ?? ""}${response.status} ${reason}`);
  }
  return data;
}

async function load() {
  if (!table) return;
  const headers = [...table.tHead.rows[0].cells];
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
  for (const item of rows) {
    const row = body.insertRow();
    row.dataset.id = item.id;
    if (item.demo === true) row.dataset.demo = "true";
    row.append(...headers.map((th) => (th.dataset.field ? cell(item[th.dataset.field], th) : actions(item))));
  }
}

/** The action cell of a row: a revoke button for tokens not yet revoked. */
function actions(item) {
  const td = document.createElement("td");
  if (table.dataset.revoke && !item.revokedAt) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "button secondary small revoke";
    button.textContent = table.dataset.revoke;
    button.addEventListener("click", async () => {
      try {
        await call("DELETE", table.dataset.revokeApi + item.id);
        showError(null);
        await load();
      } catch (error) {
        showError(error.message);
      }
    });
    td.append(button);
  }
  return td;
}

/** Fills the selects that list institutions or people (data-source), keeping their fixed first options. */
async function fillSources() {
  const selects = [...document.querySelectorAll("select[data-source]")];
  if (selects.length === 0) return;
  const lists = {};
  for (const source of new Set(selects.map((s) => s.dataset.source))) {
    try {
      lists[source] = (await call("GET", `/api/admin/${source}`)) ?? [];
    } catch (error) {
      showError(error.message);
      lists[source] = [];
    }
  }
  for (const select of selects) {
    const chosen = select.selectedOptions[0]?.dataset.id;
    for (const option of [...select.options]) if (option.dataset.item) option.remove();
    for (const item of lists[select.dataset.source]) {
      const option = document.createElement("option");
      option.dataset.id = item.id;
      option.dataset.item = "1";
      option.textContent = item.username ? `${item.username}${item.displayName ? " · " + item.displayName : ""}` : `${item.code} · ${item.name}`;
      if (item.roles) option.dataset.roles = item.roles.join(",");
      if (String(item.id) === chosen) option.selected = true;
      select.append(option);
    }
    select.dispatchEvent(new Event("change"));
  }
}

function chosenID(select) {
  const id = select.selectedOptions[0]?.dataset.id;
  return id ? Number(id) : null;
}

function checkedRoles(fieldset) {
  return [...fieldset.querySelectorAll("input[data-role]")].filter((box) => box.checked).map((box) => box.dataset.role);
}

/** Runs a form's action on submit: shows the server's refusal, or the form's message and reloads the lists. */
function handle(form, action) {
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const notice = await action(event.submitter);
      showNotice(notice ?? form.dataset.message);
      await load();
      await fillSources();
    } catch (error) {
      showError(error.message);
    } finally {
      for (const button of form.querySelectorAll("button")) button.removeAttribute("aria-busy");
    }
  });
}

const $ = (id) => document.getElementById(id);

handle($("institution-form"), async () => {
  await call("POST", "/api/admin/institutions", {
    code: $("institution-code").value.trim(),
    name: $("institution-name").value.trim(),
    kind: $("institution-kind").selectedOptions[0].dataset.kind,
  });
  $("institution-form").reset();
});

handle($("person-form"), async () => {
  const body = {
    username: $("person-username").value.trim(),
    password: $("person-password").value,
    roles: checkedRoles($("person-roles")),
  };
  const displayName = $("person-display-name").value.trim();
  if (displayName) body.displayName = displayName;
  const institution = chosenID($("person-institution"));
  if (institution != null) body.institutionID = institution;
  await call("POST", "/api/admin/people", body);
  $("person-form").reset();
});

const accountPerson = $("account-person");
accountPerson?.addEventListener("change", () => {
  const roles = (accountPerson.selectedOptions[0]?.dataset.roles ?? "").split(",");
  for (const box of $("account-roles").querySelectorAll("input[data-role]")) box.checked = roles.includes(box.dataset.role);
});

handle($("account-form"), async (submitter) => {
  const id = chosenID(accountPerson);
  const base = `/api/admin/people/${id}`;
  switch (submitter?.dataset.action) {
    case "password":
      await call("POST", `${base}/password`, { password: $("account-password").value });
      $("account-password").value = "";
      break;
    case "roles":
      await call("PUT", `${base}/roles`, { roles: checkedRoles($("account-roles")) });
      break;
    case "disable":
      await call("PATCH", base, { disabled: true });
      break;
    case "enable":
      await call("PATCH", base, { disabled: false });
      break;
    case "email":
      await call("PATCH", base, { email: $("account-email").value.trim() });
      break;
  }
});

handle($("token-form"), async () => {
  const body = { userID: chosenID($("token-person")) };
  const name = $("token-name").value.trim();
  if (name) body.name = name;
  const expires = $("token-expires").value.trim();
  if (expires) body.expires = expires;
  const created = await call("POST", "/api/admin/tokens", body);
  $("token-secret").textContent = created.token;
  $("token-secret").dataset.id = created.id;
  $("token-secret-block").hidden = false;
  $("token-form").reset();
});

load();
fillSources();

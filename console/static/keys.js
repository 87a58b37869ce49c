// Keys management, for admin keys: the API answers 403 to other keys and the page says so (the
// check is the server's; nothing here is hidden client-side only). A new key is shown once; each
// key's limits (requests per minute, token budgets, models) are shown and set here.
import { api } from "./api.js";
import { $, clear, copyText, dateOf, h } from "./dom.js";

// The numeric limits, as POST /v1/console/keys/{id}/limits names them, and how the list shows them.
const LIMITS = { requests_per_minute: "/min", tokens_per_day: " tokens/day", tokens_per_month: " tokens/month" };
let editing = null; // the id of the key whose limits the form shows

export function init() {
  $("key-form").addEventListener("submit", create);
  $("key-copy").addEventListener("click", () => copyText($("key-secret").textContent));
  $("key-done").addEventListener("click", () => {
    $("key-secret").textContent = "";
    $("key-created").hidden = true;
  });
  $("limits-form").addEventListener("submit", saveLimits);
  $("limits-cancel").addEventListener("click", () => { $("limits-form").hidden = true; });
}

export async function open() {
  $("keys-error").textContent = "";
  try {
    render(await api("/v1/console/keys"));
    $("key-form").hidden = false;
  } catch (error) {
    $("key-form").hidden = true;
    $("limits-form").hidden = true;
    clear($("keys-table"));
    $("keys-error").textContent = error.status === 403 ? `Refused: ${error.message}` : error.message;
  }
}

function render(page) {
  const titles = ["id", "name", "prefix", "project", "admin", "limits", "created", "revoked", ""];
  const head = h("thead", {}, h("tr", {}, titles.map((t) => h("th", {}, t))));
  const rows = page.data.map((key) => h("tr", { class: key.revoked_at ? "revoked" : "", "data-key": key.id },
    h("td", {}, key.id), h("td", {}, key.name), h("td", {}, `${key.prefix}…`), h("td", {}, key.project ?? ""),
    h("td", {}, key.admin ? "yes" : ""), h("td", { class: "limits" }, limitsText(key.limits)),
    h("td", {}, dateOf(key.created_at)), h("td", {}, dateOf(key.revoked_at)),
    h("td", { class: "row-actions" }, key.revoked_at ? "" : [limitsButton(key), revokeButton(key)])));
  clear($("keys-table")).append(head, h("tbody", {}, rows));
}

function limitsText(limits) {
  const parts = Object.entries(LIMITS).filter(([name]) => limits[name] !== null)
    .map(([name, unit]) => `${limits[name]}${unit}`);
  if (limits.models) parts.push(`models: ${limits.models.join(", ")}`);
  return parts.join(" · ") || "none";
}

function limitsButton(key) {
  const button = h("button", { type: "button", class: "edit-limits" }, "Limits");
  button.addEventListener("click", () => {
    editing = key.id;
    $("limits-key").textContent = key.id;
    $("limits-error").textContent = "";
    for (const name of Object.keys(LIMITS)) $(`limit-${name}`).value = key.limits[name] ?? "";
    $("limit-models").value = (key.limits.models ?? []).join(", ");
    $("limits-form").hidden = false;
    $("limit-requests_per_minute").focus();
  });
  return button;
}

// Empty is no limit (null). Text that is not a whole number is sent as it is, so that the API's
// validation (which the keys script shares) says what is wrong with it.
const limitValue = (text) => (text === "" ? null : /^-?\d+$/.test(text) ? Number(text) : text);

async function saveLimits(event) {
  event.preventDefault();
  const body = {};
  for (const name of Object.keys(LIMITS)) body[name] = limitValue($(`limit-${name}`).value.trim());
  const models = $("limit-models").value.split(",").map((name) => name.trim()).filter(Boolean);
  body.models = models.length ? models : null;
  try {
    await api(`/v1/console/keys/${encodeURIComponent(editing)}/limits`, { method: "POST", json: body });
    await open();
    $("limits-form").hidden = true; // once the list shows the new limits
  } catch (error) {
    $("limits-error").textContent = error.message;
  }
}

// Two clicks (no confirm dialog): "Revoke", then "Really revoke?".
function revokeButton(key) {
  const button = h("button", { type: "button", class: "danger" }, "Revoke");
  button.addEventListener("click", async () => {
    if (button.textContent === "Revoke") {
      button.textContent = "Really revoke?";
      return;
    }
    try {
      await api(`/v1/console/keys/${encodeURIComponent(key.id)}`, { method: "DELETE" });
      await open();
    } catch (error) {
      $("keys-error").textContent = error.message;
    }
  });
  return button;
}

async function create(event) {
  event.preventDefault();
  const project = $("key-project").value.trim();
  try {
    const made = await api("/v1/console/keys", { method: "POST",
      json: { name: $("key-name").value, ...(project ? { project } : {}) } });
    $("key-secret").textContent = made.key;
    $("key-created").hidden = false;
    $("key-form").reset();
    await open();
  } catch (error) {
    $("keys-error").textContent = error.message;
  }
}

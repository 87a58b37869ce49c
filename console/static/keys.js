// Keys management, for admin keys: the API answers 403 to other keys and the page says so (the
// check is the server's; nothing here is hidden client-side only). A new key is shown once.
import { api } from "./api.js";
import { $, clear, copyText, dateOf, h } from "./dom.js";

export function init() {
  $("key-form").addEventListener("submit", create);
  $("key-copy").addEventListener("click", () => copyText($("key-secret").textContent));
  $("key-done").addEventListener("click", () => {
    $("key-secret").textContent = "";
    $("key-created").hidden = true;
  });
}

export async function open() {
  $("keys-error").textContent = "";
  try {
    render(await api("/v1/console/keys"));
    $("key-form").hidden = false;
  } catch (error) {
    $("key-form").hidden = true;
    clear($("keys-table"));
    $("keys-error").textContent = error.status === 403 ? `Refused: ${error.message}` : error.message;
  }
}

function render(page) {
  const head = h("thead", {}, h("tr", {}, ["id", "name", "prefix", "project", "admin", "created", "revoked", ""].map((t) => h("th", {}, t))));
  const rows = page.data.map((key) => h("tr", { class: key.revoked_at ? "revoked" : "" },
    h("td", {}, key.id), h("td", {}, key.name), h("td", {}, `${key.prefix}…`), h("td", {}, key.project ?? ""),
    h("td", {}, key.admin ? "yes" : ""), h("td", {}, dateOf(key.created_at)), h("td", {}, dateOf(key.revoked_at)),
    h("td", {}, key.revoked_at ? "" : revokeButton(key))));
  clear($("keys-table")).append(head, h("tbody", {}, rows));
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

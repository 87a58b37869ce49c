// Stored objects of the signed-in key's owner, one list per kind, each object's JSON one click
// away. A new kind of stored object is one entry in KINDS: where its list is (and the query it
// needs to list newest first), where one object's JSON is, and the columns to show. (OpenAI has no
// list of responses or conversations: the console's own routes list them.)
import { api } from "./api.js";
import { $, clear, dateOf, h } from "./dom.js";

export const KINDS = [
  { title: "Responses", list: "/v1/console/responses", item: "/v1/responses",
    columns: { status: String, previous_response_id: String, created_at: dateOf } },
  { title: "Conversations", list: "/v1/console/conversations", item: "/v1/conversations",
    columns: { created_at: dateOf } },
  { title: "Files", list: "/v1/files", item: "/v1/files",
    columns: { filename: String, purpose: String, bytes: String, created_at: dateOf } },
  { title: "Vector stores", list: "/v1/vector_stores", item: "/v1/vector_stores",
    columns: { name: String, status: String, usage_bytes: String, created_at: dateOf } },
  { title: "Batches", list: "/v1/batches", item: "/v1/batches",
    columns: { endpoint: String, status: String, input_file_id: String, created_at: dateOf } },
  // OpenAI lists stored chat completions oldest first unless asked otherwise.
  { title: "Chat completions", list: "/v1/chat/completions", query: { order: "desc" }, item: "/v1/chat/completions",
    columns: { model: String, created: dateOf } },
];
const PAGE = 20;

export async function open() {
  const lists = clear($("stored-lists"));
  for (const kind of KINDS) {
    const card = h("div", { class: "card" }, h("h2", {}, kind.title));
    lists.append(card);
    try {
      const page = await api(`${kind.list}?${new URLSearchParams({ limit: PAGE, ...kind.query })}`);
      card.append(...listTable(kind, page));
    } catch (error) {
      card.append(h("p", { class: "error" }, error.message));
    }
  }
}

function listTable(kind, page) {
  const names = Object.keys(kind.columns);
  const rows = page.data.map((object) => {
    const path = `${kind.item}/${encodeURIComponent(object.id)}`;
    const link = h("button", { type: "button", class: "link", title: `GET ${path}`, onclick: () => show(path) }, object.id);
    return h("tr", {}, h("td", {}, link), names.map((name) => h("td", {}, kind.columns[name](object[name] ?? ""))));
  });
  if (!rows.length) rows.push(h("tr", {}, h("td", { colspan: names.length + 1 }, "None yet.")));
  const table = h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "id"), names.map((name) => h("th", {}, name)))),
    h("tbody", {}, rows));
  return page.has_more ? [table, h("p", { class: "hint" }, `Showing the newest ${PAGE}.`)] : [table];
}

async function show(path) {
  const view = $("stored-json");
  view.textContent = `GET ${path} …`;
  try {
    view.textContent = `GET ${path}\n\n${JSON.stringify(await api(path), null, 2)}`;
  } catch (error) {
    view.textContent = `GET ${path}\n\n${error.message}`;
  }
}

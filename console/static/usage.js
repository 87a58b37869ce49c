// Usage of the signed-in key's owner (all keys of its project) per day and model, from the D1
// daily totals (GET /v1/console/usage): a stacked bar chart in plain SVG and a table.
import { api } from "./api.js";
import { $, clear, h, svg } from "./dom.js";

const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];
const WIDTH = 760;
const HEIGHT = 240;
const PAD = { left: 56, right: 8, top: 12, bottom: 28 };

let last = null;

export function init() {
  $("usage-refresh").addEventListener("click", open);
  $("usage-days").addEventListener("change", open);
  $("usage-metric").addEventListener("change", () => last && render(last));
}

export async function open() {
  last = await api(`/v1/console/usage?days=${Number($("usage-days").value)}`);
  render(last);
}

const amount = (row, metric) => (metric === "requests" ? row.requests : row.prompt_tokens + row.completion_tokens);

function dayList(since) {
  const days = [];
  const today = new Date().toISOString().slice(0, 10);
  for (let day = new Date(`${since}T00:00:00Z`); day.toISOString().slice(0, 10) <= today; day.setUTCDate(day.getUTCDate() + 1)) {
    days.push(day.toISOString().slice(0, 10));
  }
  return days;
}

function render(body) {
  const metric = $("usage-metric").value;
  const rows = body.data;
  const days = dayList(body.since);
  const models = [...new Set(rows.map((row) => row.model))].sort();
  const color = (model) => PALETTE[models.indexOf(model) % PALETTE.length];
  const totals = rows.reduce((sum, row) => ({ requests: sum.requests + row.requests,
    prompt: sum.prompt + row.prompt_tokens, completion: sum.completion + row.completion_tokens }),
  { requests: 0, prompt: 0, completion: 0 });
  $("usage-summary").textContent = `${totals.requests} requests · ${totals.prompt} prompt tokens · ` +
    `${totals.completion} completion tokens in the last ${days.length} days`;
  chart(rows, days, models, color, metric);
  table(rows);
}

function chart(rows, days, models, color, metric) {
  const perDay = new Map(days.map((day) => [day, 0]));
  for (const row of rows) perDay.set(row.day, (perDay.get(row.day) || 0) + amount(row, metric));
  const top = Math.max(1, ...perDay.values());
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const slot = (WIDTH - PAD.left - PAD.right) / days.length;
  const scale = (value) => (value / top) * plotHeight;
  const total = rows.reduce((sum, row) => sum + amount(row, metric), 0);
  const chartNode = svg("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: "chart", role: "img",
    "aria-label": `${metric} per day`, "data-total": total, "data-metric": metric });
  const base = HEIGHT - PAD.bottom;
  chartNode.append(
    svg("line", { x1: PAD.left, x2: WIDTH - PAD.right, y1: base, y2: base, class: "axis" }),
    svg("text", { x: PAD.left - 6, y: PAD.top + 10, class: "tick", "text-anchor": "end" }, String(top)),
    svg("text", { x: PAD.left - 6, y: base, class: "tick", "text-anchor": "end" }, "0"),
    svg("text", { x: PAD.left, y: HEIGHT - 8, class: "tick" }, days[0]),
    svg("text", { x: WIDTH - PAD.right, y: HEIGHT - 8, class: "tick", "text-anchor": "end" }, days.at(-1)),
  );
  days.forEach((day, index) => {
    let y = base;
    for (const row of rows.filter((r) => r.day === day).sort((a, b) => a.model.localeCompare(b.model))) {
      const height = scale(amount(row, metric));
      y -= height;
      chartNode.append(svg("rect", { x: PAD.left + index * slot + slot * 0.15, y, width: Math.max(1, slot * 0.7),
        height, fill: color(row.model), class: "bar", "data-day": day, "data-model": row.model },
      svg("title", {}, `${day} · ${row.model}: ${amount(row, metric)} ${metric}`)));
    }
  });
  const legend = h("div", { class: "legend" }, models.map((model) => h("span", { class: "legend-item" },
    svg("svg", { width: 12, height: 12, viewBox: "0 0 12 12" }, svg("rect", { width: 12, height: 12, fill: color(model) })),
    ` ${model}`)));
  clear($("usage-chart")).append(chartNode, legend);
}

function table(rows) {
  const head = h("thead", {}, h("tr", {}, ["Day", "Model", "Requests", "Prompt tokens", "Completion tokens"].map((t) => h("th", {}, t))));
  const body = h("tbody", {}, [...rows].reverse().map((row) => h("tr", {},
    h("td", {}, row.day), h("td", {}, row.model), h("td", { class: "n" }, row.requests),
    h("td", { class: "n" }, row.prompt_tokens), h("td", { class: "n" }, row.completion_tokens))));
  if (!rows.length) body.append(h("tr", {}, h("td", { colspan: 5 }, "No requests in this period.")));
  clear($("usage-table")).append(head, body);
}

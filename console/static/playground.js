// The playground: one request at a time to the API as an SDK would send it — streamed chat
// (reasoning apart from the answer, tool calls shown, Stop aborts the request), images, speech,
// transcription, embeddings — and the same request as curl or Python.
import { ApiError, api, events } from "./api.js";
import { $, clear, copyText, h, safeSrc } from "./dom.js";
import { curl, pythonSdk } from "./snippets.js";

const TASKS = { chat: "chat", images: "images", speech: "text-to-speech", transcription: "speech-to-text",
  embeddings: "embeddings" };
const PREFERRED = { chat: "gpt-4o-mini", images: "dall-e-2", speech: "tts-1", transcription: "whisper-1",
  embeddings: "text-embedding-3-small" };

let models = [];
let history = []; // the chat so far: user and assistant messages
let controller = null;

export function init() {
  $("mode").addEventListener("change", fillModels);
  $("composer").addEventListener("submit", send);
  $("stop").addEventListener("click", () => controller?.abort());
  $("clear").addEventListener("click", () => { history = []; clear($("transcript")); status(""); });
  $("copy-curl").addEventListener("click", () => copy(curl));
  $("copy-python").addEventListener("click", () => copy(pythonSdk));
}

export async function open() {
  if (!models.length) {
    models = (await api("/v1/models")).data;
    fillModels();
  }
}

function fillModels() {
  const mode = $("mode").value;
  // Models without a task are Workers AI ids we pass through; offer them for chat.
  const choices = models.filter((m) => (m.task || "chat") === TASKS[mode])
    .sort((a, b) => a.id.startsWith("@") - b.id.startsWith("@") || a.id.localeCompare(b.id));
  const select = clear($("model"));
  for (const m of choices) {
    const target = m.workers_ai_model && m.workers_ai_model !== m.id ? ` → ${m.workers_ai_model}` : "";
    select.append(h("option", { value: m.id }, m.id + target));
  }
  if (choices.some((m) => m.id === PREFERRED[mode])) select.value = PREFERRED[mode];
  for (const node of document.querySelectorAll("[data-modes]")) {
    node.hidden = !node.dataset.modes.split(" ").includes(mode);
  }
}

function tools() {
  const text = $("tools").value.trim();
  if (!text) return null;
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`Tools are not valid JSON: ${error.message}`);
  }
  if (!Array.isArray(parsed)) throw new Error("Tools must be a JSON array of tool definitions.");
  return parsed;
}

/** The request the form describes: {path, call (the SDK method), json | form, stream, output}. */
function currentRequest() {
  const mode = $("mode").value;
  const model = $("model").value;
  const text = $("prompt").value;
  if (mode === "transcription") {
    const file = $("audio-file").files[0];
    return { path: "/v1/audio/transcriptions", call: "audio.transcriptions.create", upload: file,
      form: { model, file: { file: file ? file.name : "audio.wav" } } };
  }
  if (!text.trim()) throw new Error("Type a message first.");
  if (mode === "images") {
    return { path: "/v1/images/generations", call: "images.generate",
      json: { model, prompt: text, n: 1, size: $("size").value } };
  }
  if (mode === "speech") {
    return { path: "/v1/audio/speech", call: "audio.speech.create", output: "speech.mp3",
      json: { model, voice: $("voice").value, input: text } };
  }
  if (mode === "embeddings") return { path: "/v1/embeddings", call: "embeddings.create", json: { model, input: text } };
  const system = $("system").value.trim();
  const json = { model, messages: [...(system ? [{ role: "system", content: system }] : []), ...history,
    { role: "user", content: text }], stream: true, stream_options: { include_usage: true } };
  if ($("temperature").value !== "") json.temperature = Number($("temperature").value);
  if ($("max-tokens").value !== "") json.max_completion_tokens = Number($("max-tokens").value);
  const defined = tools();
  if (defined) json.tools = defined;
  return { path: "/v1/chat/completions", call: "chat.completions.create", json, stream: true };
}

function status(text, error = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", error);
}

function turn(role, ...children) {
  const node = h("div", { class: `turn ${role}` }, h("div", { class: "role" }, role), ...children);
  $("transcript").append(node);
  node.scrollIntoView({ block: "end" });
  return node;
}

async function send(event) {
  event.preventDefault();
  let request;
  try {
    request = currentRequest();
  } catch (error) {
    status(error.message, true);
    return;
  }
  controller = new AbortController();
  $("send").disabled = true;
  $("stop").disabled = false;
  status("Waiting for the model…");
  try {
    await RUNS[$("mode").value](request, controller.signal);
  } catch (error) {
    if (error.name === "AbortError") status("Stopped.");
    else status(error.message, true);
  } finally {
    controller = null;
    $("send").disabled = false;
    $("stop").disabled = true;
  }
}

const post = (request, signal, raw = false) => api(request.path, { method: "POST", json: request.json, signal, raw });

async function chat(request, signal) {
  const text = request.json.messages.at(-1).content;
  const reasoning = h("div", { class: "reasoning-text" });
  const reasoningBox = h("div", { class: "reasoning", hidden: true }, h("div", { class: "label" }, "Reasoning"), reasoning);
  const answer = h("div", { class: "answer" });
  const callsBox = h("pre", { class: "tool-calls", hidden: true });
  turn("user", h("div", { class: "answer" }, text));
  const reply = turn("assistant", reasoningBox, answer, callsBox);
  const response = await post(request, signal, true);
  history.push({ role: "user", content: text });
  $("prompt").value = "";
  status("Streaming…");
  const calls = [];
  let usage = null;
  let finish = null;
  try {
    for await (const data of events(response)) {
      if (data === "[DONE]") break;
      const chunk = JSON.parse(data);
      if (chunk.error) throw new ApiError(0, chunk.error.message);
      usage = chunk.usage || usage;
      for (const choice of chunk.choices || []) {
        const delta = choice.delta || {};
        if (delta.reasoning_content) {
          reasoningBox.hidden = false;
          reasoning.append(delta.reasoning_content);
        }
        if (delta.content) answer.append(delta.content);
        for (const part of delta.tool_calls || []) {
          const call = calls[part.index] ||= { id: part.id, type: "function", function: { name: "", arguments: "" } };
          call.function.name += part.function?.name || "";
          call.function.arguments += part.function?.arguments || "";
        }
        if (calls.length) {
          callsBox.hidden = false;
          callsBox.textContent = `Tool calls:\n${JSON.stringify(calls, null, 2)}`;
        }
        finish = choice.finish_reason || finish;
      }
      reply.scrollIntoView({ block: "end" });
    }
  } finally {
    if (answer.textContent || calls.length) {
      history.push({ role: "assistant", content: answer.textContent || null, ...(calls.length ? { tool_calls: calls } : {}) });
    }
  }
  const tokens = usage ? ` · ${usage.prompt_tokens} prompt + ${usage.completion_tokens} completion tokens` : "";
  status(`Done (${finish || "no finish reason"})${tokens}.`);
}

async function images(request, signal) {
  turn("user", h("div", { class: "answer" }, request.json.prompt));
  const result = await post(request, signal);
  const pictures = result.data.map((image) => safeSrc(image.url || `data:image/png;base64,${image.b64_json}`, "data:image/"))
    .filter(Boolean).map((src) => h("img", { class: "generated", src, alt: request.json.prompt }));
  turn("assistant", ...pictures);
  status(`Done: ${pictures.length} image(s).`);
}

async function speech(request, signal) {
  turn("user", h("div", { class: "answer" }, request.json.input));
  const audio = await (await post(request, signal, true)).blob();
  turn("assistant", h("audio", { controls: true, src: URL.createObjectURL(audio) }));
  status(`Done: ${audio.size} bytes of ${audio.type || "audio"}.`);
}

async function transcription(request, signal) {
  if (!request.upload) throw new Error("Choose an audio file first.");
  const form = new FormData();
  form.append("model", request.form.model);
  form.append("file", request.upload);
  turn("user", h("div", { class: "answer" }, request.upload.name));
  const result = await api(request.path, { method: "POST", form, signal });
  turn("assistant", h("div", { class: "answer" }, result.text));
  status("Done.");
}

async function embeddings(request, signal) {
  turn("user", h("div", { class: "answer" }, request.json.input));
  const result = await post(request, signal);
  const vector = result.data[0].embedding;
  turn("assistant", h("div", { class: "answer" },
    `${vector.length} dimensions (${result.model}): [${vector.slice(0, 6).map((x) => x.toFixed(4)).join(", ")}, …]`));
  status(`Done · ${result.usage.prompt_tokens} tokens.`);
}

const RUNS = { chat, images, speech, transcription, embeddings };

async function copy(render) {
  let request;
  try {
    request = currentRequest();
  } catch (error) {
    status(error.message, true);
    return;
  }
  const text = render(request);
  $("snippet").hidden = false;
  $("snippet").textContent = text;
  status((await copyText(text)) ? "Copied to the clipboard." : "Shown below (the clipboard is not available).");
}

// Local stand-in for the Workers AI binding (`env.AI`), for development and tests only.
//
// The Python Worker reaches it over a service binding as `await env.AI.run(model, inputs, options)`
// (an RPC call to `run` below), so it must answer in exactly the shapes the real models use, and
// deterministically, so tests can assert on the results. Errors are thrown as
// `new Error("<code>: <description>")`, which is how the real binding's InferenceUpstreamError reads.
// Where the real models refuse an input (OpenAI's JSON-schema envelope on a native model, http
// image URLs, bad tool-call ids, fields a schema lacks), so does the stand-in: a proxy sending one
// is caught here rather than in production.
//
// Behaviour is steered from the test side with markers in the user text (see `parseMarkers`):
//   [[words:N]]  reply "w1 … wN"              [[delay:MS]]  wait MS between streamed events
//   [[slow:MS]]  wait MS before answering      [[fail:CODE]] throw CODE
//   [[fail-mid:CODE]]  stream the first two content events, then error with CODE
//   [[drop-mid]] stream the first two content events, then end the stream (no usage, no [DONE])
//   [[hang]]     answer only after 10 minutes      [[hang-mid]]  stall after two content events
//   [[malformed]]  a result of no known shape; streamed, an event that is not JSON after the first
//   [[split]]    deliver every streamed event in two reads
//   [[chars:N]]  stream the content in pieces of N characters (so stop sequences straddle pieces)
//   [[call]] / [[call:NAME]] / [[call:A,B]]  call the first tool / those tools (needs `tools`)
//   [[badjson]]  JSON mode output that is invalid (OpenAI-shaped) or breaks the schema (native)
// Audio inputs carry no text: a WAV whose samples start with "FAIL" or "FAILnnnn" fails (see Audio).

import { WorkerEntrypoint } from "cloudflare:workers";
import { jpeg, png } from "./pictures.js";

// --- Model table -------------------------------------------------------------------------------
// task "text": `input` is the request dialect ("native": max_tokens with a default cap; "oai":
// max_completion_tokens ?? max_tokens, uncapped), `output` the response shape ("native":
// {response, usage}; "oai": chat.completion with choices). task "embed": vector size, per-call
// item limit, accepted input fields, and the `pooling` value the model reports (bge only).
const NATIVE = { task: "text", input: "native", output: "native" };
const NATIVE_IN_OAI_OUT = { task: "text", input: "native", output: "oai" };
const OAI = { task: "text", input: "oai", output: "oai" };
const embedding = (dims, extra = {}) => ({
  task: "embed", dims, maxItems: 100, fields: ["text"], pooling: null, ...extra,
});

const MODELS = {
  "@cf/meta/llama-3.3-70b-instruct-fp8-fast": NATIVE,
  "@cf/meta/llama-3.1-8b-instruct-fast": NATIVE,
  "@cf/meta/llama-4-scout-17b-16e-instruct": NATIVE,
  "@cf/meta/llama-3.2-11b-vision-instruct": NATIVE,
  "@cf/mistralai/mistral-small-3.1-24b-instruct": NATIVE,
  "@cf/qwen/qwq-32b": NATIVE,
  "@cf/qwen/qwen2.5-coder-32b-instruct": NATIVE,
  "@cf/deepseek-ai/deepseek-r1-distill-qwen-32b": NATIVE,
  "@cf/ibm-granite/granite-4.0-h-micro": NATIVE,
  "@cf/aisingapore/gemma-sea-lion-v4-27b-it": NATIVE,

  "@cf/qwen/qwen3-30b-a3b-fp8": NATIVE_IN_OAI_OUT,

  "@cf/zai-org/glm-4.7-flash": OAI,
  "@cf/google/gemma-4-26b-a4b-it": OAI,
  "@cf/nvidia/nemotron-3-120b-a12b": OAI,
  "@cf/moonshotai/kimi-k2.6": OAI,
  "@cf/openai/gpt-oss-120b": OAI,
  "@cf/openai/gpt-oss-20b": OAI,
  "@cf/qwen/qwen3.8-27b": OAI,
  "@cf/deepseek-ai/deepseek-v4-flash-0731": OAI,

  "@cf/baai/bge-small-en-v1.5": embedding(384, { pooling: "mean" }),
  "@cf/baai/bge-base-en-v1.5": embedding(768, { pooling: "mean" }),
  "@cf/baai/bge-large-en-v1.5": embedding(1024, { pooling: "mean" }),
  "@cf/baai/bge-m3": embedding(1024, { pooling: "mean" }),
  "@cf/google/embeddinggemma-300m": embedding(768),
  "@cf/qwen/qwen3-embedding-0.6b": embedding(1024, {
    maxItems: 32, fields: ["text", "documents", "queries"],
  }),

  "@cf/meta/llama-guard-3-8b": { task: "guard" },
};

// --- Capabilities of the text models ------------------------------------------------------------
// What a text model can do beyond plain chat; a model (or field) absent here has none of it.
//   tools     shape of the tool calls it returns: "flat" [{name, arguments: {…}}], "llama4"
//             [{id, type, function: {name, arguments: {…}}}], "oai" (call_ ids, string arguments)
//   shortIds  a `tool_call_id` it is given must be 9 alphanumerics (the real llama-4/mistral pattern)
//   vision    image_url content parts; imageField: a top-level `image` too (llama-3.2 vision)
//   json      JSON mode (`response_format`)
//   reasoning thinks by default: "field" in its own field (reasoningField), "tags" inside
//             <think>…</think> at the start of `response`; canStopThinking: honours enable_thinking
//   noStream  the binding answers `stream: true` with the whole JSON result, not a stream
const OAI_MODEL = {
  tools: "oai", json: true, reasoning: "field", reasoningField: "reasoning_content", canStopThinking: true,
};
const CAPABILITIES = {
  "@cf/meta/llama-3.3-70b-instruct-fp8-fast": { tools: "flat", json: true },
  "@cf/meta/llama-3.1-8b-instruct-fast": { tools: "flat", json: true },
  "@cf/meta/llama-4-scout-17b-16e-instruct": { tools: "llama4", shortIds: true, vision: true, json: true },
  "@cf/meta/llama-3.2-11b-vision-instruct": { vision: true, imageField: true },
  "@cf/mistralai/mistral-small-3.1-24b-instruct": { tools: "flat", shortIds: true, vision: true },
  "@cf/qwen/qwq-32b": { reasoning: "field", reasoningField: "reasoning_content" },
  "@cf/qwen/qwen2.5-coder-32b-instruct": { tools: "flat" },
  "@cf/deepseek-ai/deepseek-r1-distill-qwen-32b": { reasoning: "tags", json: true },
  "@cf/ibm-granite/granite-4.0-h-micro": { tools: "flat" },
  "@cf/aisingapore/gemma-sea-lion-v4-27b-it": { tools: "flat" },
  "@cf/qwen/qwen3-30b-a3b-fp8": { tools: "oai", json: true },
  "@cf/zai-org/glm-4.7-flash": OAI_MODEL,
  // gemma-4 names its thinking field `reasoning`, not `reasoning_content` (observed quirk).
  "@cf/google/gemma-4-26b-a4b-it": { ...OAI_MODEL, reasoningField: "reasoning", vision: true },
  "@cf/nvidia/nemotron-3-120b-a12b": OAI_MODEL,
  "@cf/moonshotai/kimi-k2.6": { ...OAI_MODEL, vision: true, noStream: true },
  "@cf/openai/gpt-oss-120b": { ...OAI_MODEL, noStream: true },
  "@cf/openai/gpt-oss-20b": { ...OAI_MODEL, noStream: true },
  "@cf/qwen/qwen3.8-27b": { ...OAI_MODEL, vision: true },
  "@cf/deepseek-ai/deepseek-v4-flash-0731": OAI_MODEL,
};

// The real native text models stop at 256 generated tokens unless max_tokens says otherwise.
const NATIVE_DEFAULT_MAX_TOKENS = 256;
// OpenAI-only fields: the native schemas lack them, so a native model refuses them. tool_choice and
// parallel_tool_calls are absent too but ignored, as the real models do: their own choice stands.
const OAI_ONLY_FIELDS = ["stop", "n", "logprobs", "top_logprobs", "reasoning_effort"];
const NATIVE_SEED_MAX = 9_999_999_999;
const MAX_CHOICES = 8;
const MAX_TOP_LOGPROBS = 20;
const REASONING_EFFORTS = ["low", "medium", "high"];
const SHORT_TOOL_ID = /^[a-zA-Z0-9]{9}$/;
const JSON_FRAGMENT_CHARS = 8; // OpenAI-shaped JSON mode streams its text in pieces this long
const LOGPROB = -0.25;
const TOP_LOGPROB = -1.5;

// --- Errors --------------------------------------------------------------------------------------
const ERROR_DESCRIPTIONS = {
  3040: "Capacity temporarily exceeded, please try again.",
  3036: "You have used up your daily free allocation of 10,000 neurons, please upgrade to Cloudflare's Workers Paid plan if you would like to continue usage.",
  5007: "No such model",
  8001: "Invalid input",
  8006: "Forced tool call could not be completed within max_tokens", // documented code, our wording
  3006: "Request is too large",
  3007: "Request timeout",
};
const DEFAULT_ERROR_DESCRIPTION = "Internal server error";
// Code used over HTTP when an error does not carry a "<code>: " prefix.
const UNKNOWN_ERROR_CODE = 3000;

// HTTP status for each error code on the direct `POST /run` route; anything else is a 500.
const HTTP_STATUS = { 5007: 400, 8001: 400, 8006: 400, 3036: 429, 3040: 429, 3006: 413, 3007: 408, 3008: 408 };

function aiError(code, description = ERROR_DESCRIPTIONS[code] ?? DEFAULT_ERROR_DESCRIPTION) {
  return new Error(`${code}: ${description}`);
}

function invalidInput(detail) {
  return aiError(8001, `Invalid input: ${detail}`);
}

const ensure = (condition, detail) => {
  if (!condition) throw invalidInput(detail);
};

// fn(), with anything it throws reported as invalid input.
function attempt(fn, detail) {
  try {
    return fn();
  } catch {
    throw invalidInput(detail);
  }
}

// --- Small helpers -----------------------------------------------------------------------------
const isObject = (value) => typeof value === "object" && value !== null && !Array.isArray(value);
const words = (text) => text.split(/\s+/).filter(Boolean);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const HANG_MS = 10 * 60 * 1000; // [[hang]]: long past any deadline of the worker
const toInt = (value) => Number.parseInt(value ?? "", 10) || 0;
// Words as a stream emits them: the first bare, every later one after a space.
const spaced = (list) => list.map((word, i) => (i === 0 ? word : ` ${word}`));
// A text's tokens, each with the whitespace before it, so that joining them gives the text back.
const textTokens = (text) => text.match(/\s*\S+/g) ?? [];
const encoder = new TextEncoder();
const utf8 = (text) => Array.from(encoder.encode(text));

// Pieces of `size` code points (never splitting a character), the last one possibly shorter.
function chunkChars(text, size) {
  const points = Array.from(text);
  const pieces = [];
  for (let i = 0; i < points.length; i += size) pieces.push(points.slice(i, i + size).join(""));
  return pieces;
}

// JSON with Python's separators (", " and ": "), so JSON output has words to count and cut.
function toJsonText(value) {
  if (Array.isArray(value)) return `[${value.map(toJsonText).join(", ")}]`;
  if (!isObject(value)) return JSON.stringify(value) ?? "null";
  return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${toJsonText(v)}`).join(", ")}}`;
}

// A deterministic 9-character alphanumeric id derived from `key` (hash32 is the embeddings' hash).
const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const alnumId = (key) => Array.from({ length: 9 }, (_, i) => ALNUM[hash32(key, i) % ALNUM.length]).join("");

// Test-control markers such as "[[words:5]]" or "[[call:get_weather,get-time]]"; the last one of
// a name wins.
const MARKER = /\[\[(\w+(?:-\w+)?)(?::([\w,.-]+))?\]\]/g;

function parseMarkers(text) {
  const markers = {};
  const clean = text.replace(MARKER, (_, name, value) => {
    markers[name] = value ?? "";
    return "";
  }).trim();
  return { markers, clean };
}

// A message's content is a string or an array of parts; only `{type: "text"}` parts carry words.
function contentText(content) {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .filter((part) => part?.type === "text" && typeof part.text === "string")
    .map((part) => part.text)
    .join(" ");
}

// --- Reading a text request ----------------------------------------------------------------------

// Validates the request as the model's schema would and returns what generation needs. A null
// field counts as absent, like `??`.
function readTextRequest(inputs, spec, caps) {
  ensure(isObject(inputs), "inputs must be an object");
  let conversation;
  if (inputs.messages != null) {
    conversation = readMessages(inputs.messages, caps, spec.input);
  } else if (typeof inputs.prompt === "string" && inputs.prompt.length > 0) {
    conversation = { promptWords: words(inputs.prompt), userText: inputs.prompt, images: [], toolResult: null };
  } else {
    throw invalidInput("either 'messages' (non-empty array) or 'prompt' (non-empty string) is required");
  }
  if (inputs.image != null) {
    ensure(caps.imageField, "'image' is not a field of this model's input");
    conversation.images.unshift(readImageField(inputs.image));
  }

  const limit = (name) => {
    const value = inputs[name] ?? undefined;
    ensure(value === undefined || (Number.isInteger(value) && value > 0), `'${name}' must be a positive integer`);
    return value;
  };
  const maxTokens = spec.input === "oai"
    ? limit("max_completion_tokens") ?? limit("max_tokens") ?? Infinity
    : limit("max_tokens") ?? NATIVE_DEFAULT_MAX_TOKENS;

  const tools = readTools(inputs.tools, caps);
  return {
    ...conversation,
    maxTokens,
    tools,
    stream: inputs.stream === true,
    format: readResponseFormat(inputs, spec.input, caps),
    ...(spec.input === "oai" ? readOaiOptions(inputs, tools) : readNativeOptions(inputs)),
  };
}

// Collects every prompt word (usage and prompt caching), the last user text (it carries the
// markers) and its images, and the content of a trailing tool message (the reply answers it).
function readMessages(messages, caps, dialect) {
  ensure(Array.isArray(messages) && messages.length > 0, "'messages' must be a non-empty array");
  ensure(messages.every(isObject), "each message must be an object");
  const promptWords = [];
  const callIds = new Set(); // ids of the assistant tool calls so far
  let userText = "";
  let images = [];
  messages.forEach((message, i) => {
    const where = `messages[${i}]`;
    const { role, content } = message;
    // The native schemas type content as string | parts: OpenAI's `content: null` is refused.
    ensure(dialect === "oai" || typeof content === "string" || Array.isArray(content),
      `${where}.content must be a string or an array of parts`);
    const messageImages = readImageParts(content, caps, where);
    promptWords.push(...words(contentText(content)));
    if (role === "assistant" && message.tool_calls != null) {
      promptWords.push(...readAssistantCalls(message.tool_calls, dialect, callIds, where));
    } else if (role === "tool") {
      checkToolMessage(message, caps, dialect, callIds, where);
    } else if (role === "user") {
      userText = contentText(content);
      images = messageImages;
    }
  });
  const last = messages.at(-1);
  return { promptWords, userText, images, toolResult: last.role === "tool" ? contentText(last.content) : null };
}

// Tool calls of an assistant message in the history: OpenAI-shaped inputs take OpenAI's form only
// (id, string arguments); native inputs also the flat form, and object arguments. Records the ids
// and returns the calls' words, which are part of the prompt.
function readAssistantCalls(calls, dialect, callIds, where) {
  ensure(Array.isArray(calls), `${where}.tool_calls must be an array`);
  return calls.flatMap((call, k) => {
    const at = `${where}.tool_calls[${k}]`;
    const fn = isObject(call?.function) ? call.function : dialect === "native" ? call : undefined;
    ensure(isObject(fn) && typeof fn.name === "string" && fn.name !== "", `${at} needs a function name`);
    let args = fn.arguments ?? {};
    const openAiForm = typeof call.id === "string" && call.type === "function" && typeof args === "string";
    ensure(dialect === "native" || openAiForm,
      `${at} must be {id, type: "function", function: {name, arguments: "<JSON text>"}}`);
    if (typeof args === "string") args = attempt(() => JSON.parse(args), `${at}: arguments is not valid JSON`);
    if (call.id != null) callIds.add(call.id);
    return words(`${fn.name} ${toJsonText(args)}`);
  });
}

// A tool result. Model families whose calls carry ids (llama-4, OpenAI-shaped) must get back the
// id of an earlier assistant call, so a proxy that loses or rewrites ids is caught.
function checkToolMessage(message, caps, dialect, callIds, where) {
  const { content, tool_call_id: id } = message;
  ensure(typeof content === "string" || (dialect === "oai" && Array.isArray(content)),
    `${where}.content of a tool message must be a string`);
  ensure(id == null || typeof id === "string", `${where}.tool_call_id must be a string`);
  ensure(!caps.shortIds || id == null || SHORT_TOOL_ID.test(id),
    `${where}.tool_call_id must match ${SHORT_TOOL_ID.source}`);
  const usesIds = dialect === "oai" || caps.tools === "oai" || caps.tools === "llama4";
  ensure(!usesIds || callIds.has(id),
    `${where}.tool_call_id ${JSON.stringify(id ?? null)} is not the id of an earlier assistant tool call`);
}

// Image parts of a message's content. Only base64 data: URIs: the real models refuse http(s)
// URLs (schema pattern ^data:) rather than fetch them.
const DATA_URL = /^data:(image\/[\w.+-]+);base64,([A-Za-z0-9+/]*={0,2})$/;

function readImageParts(content, caps, where) {
  if (!Array.isArray(content)) return [];
  return content.flatMap((part, j) => {
    if (part?.type !== "image_url") return [];
    const at = `${where}.content[${j}]`;
    ensure(caps.vision, `${at}: this model does not take images`);
    const match = DATA_URL.exec(typeof part.image_url?.url === "string" ? part.image_url.url : "");
    ensure(match, `${at}: image_url.url must be a data:image/...;base64,... URI`);
    return [{ mime: match[1], bytes: attempt(() => atob(match[2]).length, `${at}: the image is not valid base64`) }];
  });
}

// llama-3.2 vision's top-level `image`: an array of byte values or a binary string. A typed array
// is refused: the real binding JSON-stringifies inputs, which turns one into an {"0": …} object.
const IMAGE_SIGNATURES = [
  ["image/png", [0x89, 0x50, 0x4e, 0x47]], ["image/jpeg", [0xff, 0xd8, 0xff]],
  ["image/gif", [0x47, 0x49, 0x46, 0x38]], ["image/webp", [0x52, 0x49, 0x46, 0x46]],
];

function readImageField(image) {
  const bytes = typeof image === "string" ? Array.from(image, (ch) => ch.codePointAt(0)) : image;
  ensure(Array.isArray(bytes) && bytes.length > 0 && bytes.every((b) => Number.isInteger(b) && b >= 0 && b <= 255),
    "'image' must be a non-empty array of byte values (0-255) or a binary string");
  const known = IMAGE_SIGNATURES.find(([, signature]) => signature.every((b, i) => bytes[i] === b));
  return { mime: known ? known[0] : "application/octet-stream", bytes: bytes.length };
}

// `tools`, in OpenAI's {type: "function", function: {…}} form or the flat {name, …} form.
function readTools(tools, caps) {
  if (tools == null) return [];
  ensure(Array.isArray(tools), "'tools' must be an array");
  ensure(tools.length === 0 || caps.tools, "this model does not support tools");
  return tools.map((tool, i) => {
    const fn = isObject(tool?.function) ? tool.function : tool;
    ensure(isObject(fn) && typeof fn.name === "string" && fn.name !== "", `tools[${i}] needs a function name`);
    // `description: false` is a known 8001 on the real models.
    ensure(fn.description == null || typeof fn.description === "string", `tools[${i}].description must be a string`);
    ensure(fn.parameters == null || isObject(fn.parameters), `tools[${i}].parameters must be a JSON Schema object`);
    return { name: fn.name, parameters: fn.parameters ?? {} };
  });
}

// JSON mode: null (plain text) or {schema} (schema null: any object). Native models take the bare
// JSON Schema and cannot stream it; OpenAI-shaped ones take OpenAI's {name, schema, strict}.
function readResponseFormat(inputs, dialect, caps) {
  const format = inputs.response_format;
  if (format == null) return null;
  ensure(isObject(format), "'response_format' must be an object");
  if (dialect === "oai" && format.type === "text") return null;
  ensure(caps.json, "this model does not support JSON mode ('response_format')");
  ensure(["json_object", "json_schema"].includes(format.type),
    "'response_format.type' must be json_object or json_schema");
  if (dialect === "native" && inputs.stream === true) throw aiError(8001, "JSON mode does not support streaming");
  if (format.type === "json_object") return { schema: null };

  const schema = format.json_schema;
  if (dialect === "oai") {
    ensure(isObject(schema) && typeof schema.name === "string" && isObject(schema.schema),
      "'response_format.json_schema' must be {name, schema, strict}");
    return { schema: schema.schema };
  }
  ensure(isObject(schema), "'response_format.json_schema' must be a JSON Schema");
  ensure(!isObject(schema.schema),
    "'response_format.json_schema' must be the bare JSON Schema, not {name, schema, strict}");
  return { schema };
}

// The native input: none of the OpenAI-only fields; a seed in the schema's range.
function readNativeOptions(inputs) {
  const extra = OAI_ONLY_FIELDS.find((name) => inputs[name] != null);
  ensure(extra === undefined, `'${extra}' is not a field of this model's input`);
  const { seed } = inputs;
  ensure(seed == null || (Number.isInteger(seed) && seed >= 1 && seed <= NATIVE_SEED_MAX),
    `'seed' must be an integer from 1 to ${NATIVE_SEED_MAX}`);
  return {
    n: 1, logprobs: false, topLogprobs: 0, effort: null, thinking: true,
    toolChoice: "auto", forcedTool: null, parallel: true,
  };
}

// The OpenAI-shaped input's extra fields. `stop` is validated but not applied (the proxy must
// enforce it); `seed` has no effect.
function readOaiOptions(inputs, tools) {
  const { n = 1, top_logprobs: topLogprobs = 0, reasoning_effort: effort = null, stop } = inputs;
  const { chat_template_kwargs: kwargs, parallel_tool_calls: parallel } = inputs;
  const isIn = (value, low, high) => Number.isInteger(value) && value >= low && value <= high;
  ensure(isIn(n, 1, MAX_CHOICES), `'n' must be an integer from 1 to ${MAX_CHOICES}`);
  ensure(inputs.logprobs == null || typeof inputs.logprobs === "boolean", "'logprobs' must be a boolean");
  ensure(isIn(topLogprobs, 0, MAX_TOP_LOGPROBS), `'top_logprobs' must be an integer from 0 to ${MAX_TOP_LOGPROBS}`);
  ensure(effort === null || REASONING_EFFORTS.includes(effort),
    `'reasoning_effort' must be one of ${REASONING_EFFORTS.join(", ")}`);
  ensure(kwargs == null || isObject(kwargs), "'chat_template_kwargs' must be an object");
  const strings = (value) => Array.isArray(value) && value.every((s) => typeof s === "string");
  ensure(stop == null || typeof stop === "string" || strings(stop), "'stop' must be a string or an array of strings");
  ensure(parallel == null || typeof parallel === "boolean", "'parallel_tool_calls' must be a boolean");
  return {
    n, logprobs: inputs.logprobs === true, topLogprobs, effort,
    thinking: kwargs?.enable_thinking !== false,
    ...readToolChoice(inputs.tool_choice, tools),
    parallel: parallel !== false,
  };
}

// tool_choice on OpenAI-shaped models: a named function is enforced server-side; "required" is
// only advisory there (the model may still answer in text); "any" is refused, as for real.
function readToolChoice(choice, tools) {
  if (choice == null || choice === "auto" || choice === "required") return { toolChoice: "auto", forcedTool: null };
  if (choice === "none") return { toolChoice: "none", forcedTool: null };
  const name = isObject(choice) && choice.type === "function" ? choice.function?.name : undefined;
  ensure(typeof name === "string",
    "'tool_choice' must be none, auto, required or {type: \"function\", function: {name}}");
  ensure(tools.some((tool) => tool.name === name), `'tool_choice' names '${name}', which is not in 'tools'`);
  return { toolChoice: "auto", forcedTool: name };
}

// --- JSON Schema instances -----------------------------------------------------------------------
const MAX_SCHEMA_DEPTH = 16; // recursive schemas end in null here

// The instance a constrained decoder could produce, deterministically: every property, the first
// enum value / anyOf branch, one array item.
function schemaInstance(schema, root, depth = 0) {
  if (!isObject(schema) || depth > MAX_SCHEMA_DEPTH) return null;
  const next = (sub) => schemaInstance(sub, root, depth + 1);
  if (typeof schema.$ref === "string") return next(resolveRef(root, schema.$ref));
  if ("const" in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  const branches = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(branches) && branches.length > 0) return next(branches[0]);
  if (Array.isArray(schema.allOf)) return Object.assign({}, ...schema.allOf.map(next).filter(isObject));
  const type = Array.isArray(schema.type)
    ? schema.type.find((t) => t !== "null") ?? "null"
    : schema.type ?? (schema.properties ? "object" : schema.items ? "array" : undefined);
  switch (type) {
    case "object": return Object.fromEntries(Object.entries(schema.properties ?? {}).map(([k, v]) => [k, next(v)]));
    case "array": return isObject(schema.items) ? [next(schema.items)] : [];
    case "string": return "text";
    case "integer": return 1;
    case "number": return 1.5;
    case "boolean": return true;
    case "null": return null;
    default: return depth === 0 ? {} : "text"; // an untyped root (tool parameters) is an object
  }
}

// Local references only (#, #/$defs/…, #/definitions/…), as strict structured output allows.
function resolveRef(root, ref) {
  let target = ref === "#" || ref.startsWith("#/") ? root : undefined;
  for (const raw of ref === "#" ? [] : ref.slice(2).split("/")) {
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    target = isObject(target) && Object.hasOwn(target, key) ? target[key] : undefined;
  }
  ensure(isObject(target), `JSON Schema $ref '${ref}' does not resolve`);
  return target;
}

// "[[badjson]]" on OpenAI-shaped models: the JSON text cut off after its first key.
function cutShort(text) {
  const at = text.indexOf(": ");
  return at >= 0 ? text.slice(0, at + 2) : text.slice(0, Math.ceil(text.length / 2));
}

// --- Planning a completion -----------------------------------------------------------------------

// Reasoning models think first, about the user text; reasoning_effort "low" thinks in one word.
function reasoningWords(req, caps, clean) {
  if (!caps.reasoning || (caps.canStopThinking && !req.thinking)) return [];
  return req.effort === "low" ? ["Thinking."] : words(`Thinking about: ${clean}`);
}

// The tools a choice calls: the one tool_choice forces, else those [[call…]] names — but markers
// do not call again in reply to a tool result (the model answers it instead).
function chooseCalls(ctx) {
  const { req, markers } = ctx;
  if (req.tools.length === 0 || req.toolChoice === "none") return [];
  let names;
  if (req.forcedTool) names = [req.forcedTool];
  else if ("call" in markers && req.toolResult === null) {
    names = markers.call ? markers.call.split(",").filter(Boolean) : [req.tools[0].name];
  } else return [];
  const calls = names.map((name) => {
    const tool = req.tools.find((t) => t.name === name);
    ensure(tool, `the model called '${name}', which is not in 'tools'`);
    return { name, args: schemaInstance(tool.parameters, tool.parameters) };
  });
  return req.parallel ? calls : calls.slice(0, 1);
}

const callTokens = (call) => 1 + textTokens(toJsonText(call.args)).length;

// Ids differ per call, choice and turn (the prompt grows), and repeat for a repeated request.
function callId(ctx, choiceIndex, callIndex, name) {
  const { model, caps, req } = ctx;
  const id = alnumId(`${model}|${req.promptWords.length}|${req.userText}|${choiceIndex}|${callIndex}|${name}`);
  return { oai: `call_${id}`, llama4: id }[caps.tools];
}

// The words of a text reply, built only up to `limit` (so a huge [[words:N]] under a small cap
// stays cheap), and the length it would have had uncut. With n > 1 each choice says which it is.
function replyWords(ctx, index, limit) {
  const { req, markers, clean } = ctx;
  let base;
  let baseLength;
  if (req.toolResult !== null) base = words(`Tool said: ${req.toolResult}`);
  else if ("words" in markers) {
    baseLength = toInt(markers.words);
    base = Array.from({ length: Math.min(baseLength, limit) }, (_, i) => `w${i + 1}`);
  } else if (req.images.length > 0) {
    const seen = req.images.map(({ mime, bytes }) => `${mime}/${bytes} bytes`).join(", ");
    base = words(`I see ${req.images.length} image(s): ${seen}`);
  } else base = words(`Echo: ${clean}`);
  const suffix = req.n > 1 ? ["(choice", `${index})`] : [];
  return { words: [...base, ...suffix].slice(0, limit), total: (baseLength ?? base.length) + suffix.length };
}

// What one choice says: reasoning words, the content as its stream pieces (native JSON mode: the
// object, in `value`), tool calls, finish reason and tokens used. Thinking, then calls or content,
// share one max_tokens budget, so thinking can use it all up.
function planChoice(ctx, index) {
  const { req, caps, markers, spec } = ctx;
  const choice = { index, reasoning: [], pieces: [], value: undefined, calls: [], tokens: 0, finishReason: "stop" };
  let budget = req.maxTokens;
  const spend = (list, total = list.length) => {
    const taken = list.slice(0, budget);
    budget -= taken.length;
    choice.tokens += taken.length;
    if (taken.length < total) choice.finishReason = "length";
    return taken;
  };
  const calls = chooseCalls(ctx); // first, so an unknown tool fails whatever the budget
  const chars = toInt(markers.chars);
  const rechunk = (pieces) => (chars > 0 ? chunkChars(pieces.join(""), chars) : pieces);

  // deepseek-r1-distill thinks inside `response`: "<think>\n…\n</think>\n\n", each tag a token.
  // Its JSON mode returns a bare object, with no room for tags, so it does not think there.
  const tagged = caps.reasoning === "tags";
  const thinking = tagged && req.format ? [] : reasoningWords(req, caps, ctx.clean);
  const head = [];
  if (tagged && thinking.length > 0) {
    spend(["<think>"]);
    head.push("<think>\n", ...spaced(spend(thinking)));
    if (choice.finishReason !== "length" && spend(["</think>"]).length > 0) head.push("\n</think>\n\n");
  } else {
    choice.reasoning = spend(thinking);
  }
  if (choice.finishReason === "length") {
    choice.pieces = rechunk(head);
    return choice;
  }

  if (calls.length > 0) {
    const cost = calls.reduce((sum, call) => sum + callTokens(call), 0);
    if (cost > budget) {
      // A call cut short cannot be returned; a forced one fails on the real models (8006).
      if (req.forcedTool) throw aiError(8006);
      choice.tokens += budget;
      choice.finishReason = "length";
      return choice;
    }
    choice.tokens += cost;
    choice.calls = calls.map((call, k) => ({ ...call, id: callId(ctx, index, k, call.name) }));
    choice.finishReason = "tool_calls";
    return choice;
  }

  if (req.format) {
    const bad = "badjson" in markers;
    const instance = req.format.schema ? schemaInstance(req.format.schema, req.format.schema) : { echo: ctx.clean };
    if (spec.output === "native") {
      // Native JSON mode returns the object itself, uncut; [[badjson]] drops the required properties.
      choice.value = bad ? {} : instance;
      choice.tokens += textTokens(toJsonText(choice.value)).length;
      return choice;
    }
    const text = bad ? cutShort(toJsonText(instance)) : toJsonText(instance);
    const tokens = textTokens(text);
    const said = spend(tokens);
    choice.pieces = chunkChars(said.length === tokens.length ? text : said.join(""), chars || JSON_FRAGMENT_CHARS);
    return choice;
  }

  const reply = replyWords(ctx, index, budget);
  choice.pieces = rechunk([...head, ...spaced(spend(reply.words, reply.total))]);
  return choice;
}

// --- Prompt caching ------------------------------------------------------------------------------
// Per x-session-affinity value, the previous prompt's words: cached tokens are the leading words a
// prompt shares with it. The least recently used values are dropped beyond a bound.
const MAX_AFFINITIES = 1000;
const previousPrompts = new Map();

function affinityOf(options) {
  const headers = isObject(options) && isObject(options.extraHeaders) ? options.extraHeaders : {};
  const name = Object.keys(headers).find((key) => key.toLowerCase() === "x-session-affinity");
  const value = name === undefined ? undefined : headers[name];
  return typeof value === "string" && value !== "" ? value : undefined;
}

function cachedTokens(affinity, promptWords) {
  if (affinity === undefined) return 0;
  const previous = previousPrompts.get(affinity) ?? [];
  let shared = 0;
  const most = Math.min(previous.length, promptWords.length);
  while (shared < most && previous[shared] === promptWords[shared]) shared++;
  previousPrompts.delete(affinity); // re-inserted last: Map order is then least recently used first
  previousPrompts.set(affinity, promptWords);
  if (previousPrompts.size > MAX_AFFINITIES) previousPrompts.delete(previousPrompts.keys().next().value);
  return shared;
}

// --- Results ----------------------------------------------------------------------------------

function usageOf(promptTokens, completionTokens) {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}

// OpenAI-shaped results always report cached tokens; native ones and the stream's closing usage
// event only when an affinity was sent (so results without one keep their long-standing shape).
function usageWire(gen, details = gen.affinity !== undefined) {
  const usage = usageOf(gen.promptTokens, gen.completionTokens);
  return details ? { ...usage, prompt_tokens_details: { cached_tokens: gen.cachedTokens } } : usage;
}

let completionCounter = 0;

// The fields every OpenAI-shaped result and chunk starts with, in the real key order.
function envelope(gen, object) {
  return { id: gen.id, object, created: gen.created, model: gen.model };
}

// Native tool calls carry arguments as an object, not a JSON string.
function nativeToolCalls(gen, calls) {
  return calls.map(({ id, name, args }) => (gen.caps.tools === "llama4"
    ? { id, type: "function", function: { name, arguments: args } }
    : { name, arguments: args }));
}

function oaiToolCalls(calls) {
  return calls.map(({ id, name, args }) => ({ id, type: "function", function: { name, arguments: toJsonText(args) } }));
}

function logprobEntry(token, top) {
  const alternatives = Array.from({ length: top }, (_, j) => `alt${j + 1}`);
  return {
    token, logprob: LOGPROB, bytes: utf8(token),
    top_logprobs: alternatives.map((alt) => ({ token: alt, logprob: TOP_LOGPROB, bytes: utf8(alt) })),
  };
}

const reasoningField = (gen) => gen.caps.reasoningField ?? "reasoning_content";

function nativeResult(gen) {
  const [choice] = gen.choices;
  const result = { response: choice.value !== undefined ? choice.value : choice.pieces.join("") };
  if (gen.caps.reasoning === "field") result.reasoning_content = spaced(choice.reasoning).join("");
  result.tool_calls = nativeToolCalls(gen, choice.calls);
  result.usage = usageWire(gen);
  return result;
}

// Logprob tokens are the content's stream pieces, so they always join up to the content.
function oaiResult(gen) {
  return {
    ...envelope(gen, "chat.completion"),
    choices: gen.choices.map((choice) => ({
      index: choice.index,
      message: {
        role: "assistant",
        content: choice.calls.length > 0 ? null : choice.pieces.join(""),
        [reasoningField(gen)]: choice.reasoning.length > 0 ? spaced(choice.reasoning).join("") : null,
        tool_calls: oaiToolCalls(choice.calls),
      },
      logprobs: gen.logprobs ? { content: choice.pieces.map((piece) => logprobEntry(piece, gen.topLogprobs)) } : null,
      finish_reason: choice.finishReason,
    })),
    usage: usageWire(gen, true),
  };
}

// --- Streams -------------------------------------------------------------------------------------

// Real streams carry a "p" field of random padding; ours varies in length (1-12) but predictably.
const PADDING = "abcdefghijkl";
const padding = (i) => PADDING.slice(0, 1 + ((i * 7 + 3) % PADDING.length));

const sse = (payload) => `data: ${JSON.stringify(payload)}\n\n`;
const SSE_DONE = "data: [DONE]\n\n";

// Tool-call arguments stream in 2-3 fragments, split anywhere, as real models do.
function argumentFragments(text) {
  const length = Array.from(text).length;
  return chunkChars(text, Math.ceil(length / (length >= 12 ? 3 : 2)));
}

// Stream events come tagged "lead" (before the content), "content" (content or tool calls) or
// "end" (finish reason, usage, [DONE]), so fail-mid can cut them.
function nativeStreamEvents(gen) {
  const [choice] = gen.choices;
  let i = 0;
  const events = [
    ...spaced(choice.reasoning).map((text) => ["lead", sse({ response: "", reasoning_content: text, p: padding(i++) })]),
    ...choice.pieces.map((piece) => ["content", sse({ response: piece, p: padding(i++) })]),
  ];
  if (choice.calls.length > 0) {
    events.push(["content", sse({ response: "", tool_calls: nativeToolCalls(gen, choice.calls) })]);
  }
  return [...events, ["end", sse({ response: "", usage: usageWire(gen) })], ["end", SSE_DONE]];
}

function oaiChoiceEvents(gen, choice) {
  const field = reasoningField(gen);
  let i = 0;
  // Like the real OpenAI-shaped models, each chunk reports the usage of that chunk alone.
  const increment = () => ({ p: padding(i++), usage: usageOf(gen.promptTokens, 1) });
  const chunk = (delta, finishReason, extra = {}, logprobs = undefined) => sse({
    ...envelope(gen, "chat.completion.chunk"),
    choices: [{ index: choice.index, delta, ...(logprobs && { logprobs }), finish_reason: finishReason }],
    ...extra,
  });
  const events = [["lead", chunk({ role: "assistant", content: "" }, null)]];
  for (const piece of spaced(choice.reasoning)) {
    events.push(["lead", chunk({ content: null, [field]: piece }, null, increment())]);
  }
  for (const piece of choice.pieces) {
    const logprobs = gen.logprobs ? { content: [logprobEntry(piece, gen.topLogprobs)] } : undefined;
    events.push(["content", chunk({ content: piece, [field]: null }, null, increment(), logprobs)]);
  }
  choice.calls.forEach((call, k) => {
    const head = { index: k, id: call.id, type: "function", function: { name: call.name, arguments: "" } };
    events.push(["content", chunk({ tool_calls: [head] }, null, increment())]);
    for (const fragment of argumentFragments(toJsonText(call.args))) {
      const delta = { tool_calls: [{ index: k, function: { arguments: fragment } }] };
      events.push(["content", chunk(delta, null, increment())]);
    }
  });
  return [...events, ["end", chunk({}, choice.finishReason)]];
}

// With n > 1 the choices' chunks interleave, as OpenAI's do. The binding then appends a
// native-style usage event with the cumulative totals.
function oaiStreamEvents(gen) {
  const perChoice = gen.choices.map((choice) => oaiChoiceEvents(gen, choice));
  const merged = [];
  for (let k = 0; k < Math.max(...perChoice.map((events) => events.length)); k++) {
    for (const events of perChoice) if (k < events.length) merged.push(events[k]);
  }
  return [...merged, ["end", sse({ response: "", usage: usageWire(gen) })], ["end", SSE_DONE]];
}

// The SSE events of a streamed completion, in order. A stream cut mid-way (fail-mid, drop-mid,
// hang-mid) has only the lead events and the first two content events (the caller then errors,
// ends or stalls the stream); a malformed one has an event that is not JSON after the first.
function streamEvents(gen, output, { cut, malformed }) {
  const tagged = output === "native" ? nativeStreamEvents(gen) : oaiStreamEvents(gen);
  const kept = [];
  let contents = 0;
  for (const [tag, event] of tagged) {
    if (cut && tag === "end") break;
    kept.push(event);
    if (tag !== "content") continue;
    contents++;
    if (malformed && contents === 1) kept.push('data: {"response": "cut off\n\n');
    if (cut && contents === 2) break;
  }
  return kept;
}

// Splits an event in the middle (on a code point boundary), so consumers must buffer up to "\n\n".
function halves(event) {
  const codePoints = Array.from(event);
  const mid = codePoints.length >> 1;
  return [codePoints.slice(0, mid).join(""), codePoints.slice(mid).join("")];
}

// Produces one event per read, waiting delayMs before each one after the first, so consumers see
// a genuinely incremental stream rather than one buffered blob. It is pull-based with no read-ahead
// (highWaterMark 0) because `controller.error()` discards chunks still queued: erroring only once
// the consumer asks for the event after the last one makes fail-mid deliver its events first.
function sseStream(events, { delayMs, split, failCode, hang }) {
  let next = 0;
  let cancelled = false;
  return new ReadableStream({
    async pull(controller) {
      if (next === events.length) {
        if (hang) await sleep(HANG_MS);
        if (cancelled) return;
        if (failCode !== undefined) controller.error(aiError(failCode));
        else controller.close();
        return;
      }
      if (next > 0 && delayMs > 0) await sleep(delayMs);
      if (cancelled) return;
      const event = events[next++];
      for (const piece of split ? halves(event) : [event]) controller.enqueue(encoder.encode(piece));
    },
    cancel() {
      cancelled = true;
    },
  }, { highWaterMark: 0 });
}

async function generateText(model, spec, inputs, options) {
  const caps = CAPABILITIES[model] ?? {};
  const req = readTextRequest(inputs, spec, caps);
  const { markers, clean } = parseMarkers(req.userText);

  if ("slow" in markers) await sleep(toInt(markers.slow));
  if ("hang" in markers) await sleep(HANG_MS);
  if ("fail" in markers) throw aiError(toInt(markers.fail) || UNKNOWN_ERROR_CODE);
  if ("malformed" in markers && !req.stream) return { unexpected: "shape" };

  const ctx = { model, spec, caps, req, markers, clean };
  const choices = Array.from({ length: req.n }, (_, i) => planChoice(ctx, i));
  const affinity = affinityOf(options);
  const gen = {
    id: `chatcmpl-standin-${++completionCounter}`,
    created: Math.floor(Date.now() / 1000),
    model,
    caps,
    choices,
    promptTokens: req.promptWords.length,
    completionTokens: choices.reduce((sum, choice) => sum + choice.tokens, 0),
    affinity,
    cachedTokens: cachedTokens(affinity, req.promptWords),
    logprobs: req.logprobs,
    topLogprobs: req.topLogprobs,
  };

  // gpt-oss and kimi answer a streaming request with the whole result, as the real binding does.
  if (req.stream && !caps.noStream) {
    const failMid = "fail-mid" in markers;
    const cut = failMid || "drop-mid" in markers || "hang-mid" in markers;
    return sseStream(streamEvents(gen, spec.output, { cut, malformed: "malformed" in markers }), {
      delayMs: toInt(markers.delay),
      split: "split" in markers,
      failCode: failMid ? toInt(markers["fail-mid"]) || UNKNOWN_ERROR_CODE : undefined,
      hang: "hang-mid" in markers,
    });
  }
  return spec.output === "oai" ? oaiResult(gen) : nativeResult(gen);
}

// --- Embeddings ----------------------------------------------------------------------------------

// Seeds for the two independent hashes each token contributes through.
const HASH_SEEDS = [0, 0x9e3779b9];
// Added at dimension 0 so every vector (even of an empty text) is non-zero and can be normalised.
const EMBEDDING_BIAS = 0.05;

// 32-bit FNV-1a over UTF-16 code units, with a murmur3 finaliser so the low bits (used for the
// index) and the top bit (used for the sign) are well mixed even for short tokens.
function hash32(text, seed) {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

// Feature hashing: texts that share words share (signed) dimensions, so their cosine similarity
// is higher than that of unrelated texts, and the same text always gives the same vector.
function embedText(text, dims) {
  const vector = new Array(dims).fill(0);
  vector[0] = EMBEDDING_BIAS;
  for (const token of text.toLowerCase().split(/[^\p{L}\p{N}]+/u)) {
    if (!token) continue;
    for (const seed of HASH_SEEDS) {
      const h = hash32(token, seed);
      vector[h % dims] += h >>> 31 ? -1 : 1;
    }
  }
  const norm = Math.hypot(...vector);
  return vector.map((x) => x / norm);
}

function embed(spec, inputs) {
  if (!isObject(inputs)) throw invalidInput("inputs must be an object");
  const field = spec.fields.find((name) => inputs[name] != null);
  if (field === undefined) throw invalidInput(`'${spec.fields.join("' or '")}' is required`);

  const value = inputs[field];
  const texts = typeof value === "string" ? [value] : value;
  if (!Array.isArray(texts) || texts.length === 0) {
    throw invalidInput(`'${field}' must be a string or a non-empty array of strings`);
  }
  if (texts.length > spec.maxItems) throw invalidInput(`'${field}' has more than ${spec.maxItems} items`);
  if (!texts.every((text) => typeof text === "string")) throw invalidInput(`'${field}' items must be strings`);

  for (const text of texts) {
    const { markers } = parseMarkers(text);
    if ("fail" in markers) throw aiError(toInt(markers.fail) || UNKNOWN_ERROR_CODE);
  }

  const data = texts.map((text) => embedText(text, spec.dims));
  const result = { shape: [data.length, spec.dims], data };
  if (spec.pooling) result.pooling = spec.pooling;
  return result;
}

// --- Moderation: @cf/meta/llama-guard-3-8b ------------------------------------------------------
// Validates like the real schema (roles user|assistant, alternating from user; content a string of
// at most 131,072 characters) and answers a deterministic verdict on the last message: trigger
// words flag hazard categories, and "[[unsafe:S5]]" / "[[unsafe:S5,S13]]" flag those codes.
// With response_format json_object the answer is {safe, categories}; without it the model's text,
// "safe" or "unsafe\nS1,S10". [[fail:CODE]] throws CODE, as for the other models.
const GUARD_MAX_CHARS = 131_072;
const GUARD_TRIGGERS = [
  [/\bkill/i, "S1"],
  [/\bsteal/i, "S2"],
  [/\bhate/i, "S10"],
  [/\bsuicide/i, "S11"],
  [/\bnsfw\b/i, "S12"],
];
const HAZARD_CODE = /^S([1-9]|1[0-4])$/;

function readGuardMessages(messages) {
  ensure(Array.isArray(messages) && messages.length > 0, "'messages' must be a non-empty array");
  messages.forEach((message, i) => {
    ensure(isObject(message), `messages[${i}] must be an object`);
    const role = i % 2 === 0 ? "user" : "assistant";
    ensure(message.role === role, `messages[${i}].role must be '${role}' (user and assistant alternate)`);
    ensure(typeof message.content === "string", `messages[${i}].content must be a string`);
    ensure(message.content.length <= GUARD_MAX_CHARS,
      `messages[${i}].content is longer than ${GUARD_MAX_CHARS} characters`);
  });
  return messages;
}

function guardCodes(text) {
  const { markers, clean } = parseMarkers(text);
  if ("fail" in markers) throw aiError(toInt(markers.fail) || UNKNOWN_ERROR_CODE);
  const codes = new Set(GUARD_TRIGGERS.filter(([word]) => word.test(clean)).map(([, code]) => code));
  for (const code of (markers.unsafe ?? "").split(",").filter(Boolean)) {
    ensure(HAZARD_CODE.test(code), `[[unsafe:${code}]] is not a hazard category S1..S14`);
    codes.add(code);
  }
  return [...codes].sort((a, b) => toInt(a.slice(1)) - toInt(b.slice(1)));
}

function moderate(inputs) {
  ensure(isObject(inputs), "inputs must be an object");
  const messages = readGuardMessages(inputs.messages);
  const format = inputs.response_format;
  ensure(format == null || (isObject(format) && typeof format.type === "string"),
    "'response_format' must be an object with a string 'type'");
  const { temperature } = inputs;
  ensure(temperature == null || (typeof temperature === "number" && temperature >= 0 && temperature <= 5),
    "'temperature' must be a number from 0 to 5");
  const codes = guardCodes(messages[messages.length - 1].content);
  const safe = codes.length === 0;
  const promptTokens = messages.reduce((sum, m) => sum + words(m.content).length, 0);
  const usage = usageOf(promptTokens, safe ? 1 : 2 + codes.length);
  const response = format?.type === "json_object"
    ? { safe, categories: codes }
    : safe ? "safe" : `unsafe\n${codes.join(",")}`;
  return { response, usage };
}

// --- Audio ---------------------------------------------------------------------------------------
// Speech-to-text (the whisper family) and text-to-speech (aura-1, melotts) in the real input and
// output shapes, with content derived from the input so tests can assert on it:
//   whisper  the duration of a WAV comes from its RIFF header (other audio: its size at 128 kbit/s);
//            the text is "Audio of 1.50 seconds." ("Translated audio of …" for task translate), its
//            words spread evenly over the duration. Audio inputs carry no text markers, so the
//            failure switch is in the audio: a WAV whose sample data starts with "FAIL" throws 3000,
//            or the four-digit code right after it ("FAIL3040" throws 3040).
//   aura-1   a byte stream: MP3 frames by default, or the requested encoding (a WAV header when
//            container is wav), its length and bytes following the text
//   melotts  {audio: <base64 MP3>}, likewise
const AUDIO_MODELS = {
  "@cf/openai/whisper-large-v3-turbo": { task: "speech-to-text", input: "base64-or-stream" },
  "@cf/openai/whisper": { task: "speech-to-text", input: "byte-array" },
  "@cf/openai/whisper-tiny-en": { task: "speech-to-text", input: "byte-array" },
  "@cf/deepgram/aura-1": { task: "aura" },
  "@cf/myshell-ai/melotts": { task: "melotts" },
};
const WHISPER_TASKS = ["transcribe", "translate"];
const COMPRESSED_BYTES_PER_SECOND = 16_000; // 128 kbit/s, for audio that is not a WAV
const AUDIO_HEAD_BYTES = 4096; // of a streamed file, enough to find a WAV's "data" chunk
const AUDIO_FAIL = /^FAIL(\d{4})?/;
const AURA_SPEAKERS = ["angus", "asteria", "arcas", "orion", "orpheus", "athena", "luna", "zeus",
  "perseus", "helios", "hera", "stella"];
const AURA_ENCODINGS = ["linear16", "flac", "mulaw", "alaw", "mp3", "opus", "aac"];
// Container → the encodings it can hold; "none" holds any.
const AURA_CONTAINERS = { none: AURA_ENCODINGS, wav: ["linear16", "mulaw", "alaw"], ogg: ["opus"] };
const AURA_DEFAULT_SAMPLE_RATE = 24_000;
const MELOTTS_LANGS = ["en", "es", "fr", "zh", "jp", "kr"];
// MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, joint stereo: 417-byte frames.
const MP3_FRAME_HEADER = [0xff, 0xfb, 0x90, 0x64];
const MP3_FRAME_BYTES = 417;
const SPEECH_SECONDS_PER_WORD = 0.25;
const MAX_SPEECH_SECONDS = 30;
const round3 = (x) => Math.round(x * 1000) / 1000;
// Bytes as a binary string (for atob/btoa and tags), in slices that fit in an argument list.
function ascii(bytes) {
  let out = "";
  for (let i = 0; i < bytes.length; i += 8192) out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return out;
}

// A stream input read to its end; only its first AUDIO_HEAD_BYTES are kept, the rest counted.
async function readAudioStream(body) {
  const reader = body.getReader();
  const head = new Uint8Array(AUDIO_HEAD_BYTES);
  let filled = 0;
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const chunk = value instanceof Uint8Array ? value : new Uint8Array(value);
    const n = Math.min(head.length - filled, chunk.length);
    head.set(chunk.subarray(0, n), filled);
    filled += n;
    size += chunk.length;
  }
  return { head: head.subarray(0, filled), size };
}

// whisper-large-v3-turbo's `audio`: a base64 string or a stream input {body, contentType}.
async function readTurboAudio(audio) {
  if (typeof audio === "string") {
    const bytes = Uint8Array.from(attempt(() => atob(audio), "audio is not valid base64"), (c) => c.charCodeAt(0));
    return { head: bytes.subarray(0, AUDIO_HEAD_BYTES), size: bytes.length };
  }
  ensure(isObject(audio), "audio must be a base64 string or a stream input {body, contentType}");
  ensure(audio.body instanceof ReadableStream, "audio.body must be a ReadableStream");
  ensure(typeof audio.contentType === "string" && audio.contentType !== "", "audio.contentType is required");
  return readAudioStream(audio.body);
}

// Classic whisper's `audio`: an array of byte values.
function readByteArray(audio) {
  ensure(Array.isArray(audio), "audio must be an array of byte values (0-255)");
  ensure(audio.every((b) => Number.isInteger(b) && b >= 0 && b <= 255), "audio must hold byte values (0-255)");
  const bytes = Uint8Array.from(audio);
  return { head: bytes.subarray(0, AUDIO_HEAD_BYTES), size: bytes.length };
}

// A WAV's duration and the first bytes of its samples, from the RIFF chunks; null if not a WAV.
function wavInfo(head, size) {
  if (head.length < 12 || ascii(head.subarray(0, 4)) !== "RIFF" || ascii(head.subarray(8, 12)) !== "WAVE") return null;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  let offset = 12;
  let byteRate = 0;
  while (offset + 8 <= head.length) {
    const id = ascii(head.subarray(offset, offset + 4));
    const length = view.getUint32(offset + 4, true);
    const data = offset + 8;
    if (id === "fmt " && data + 12 <= head.length) byteRate = view.getUint32(data + 8, true);
    if (id === "data") {
      const available = size - data;
      const bytes = length > 0 && length <= available ? length : available; // streamed WAVs: size unset
      return { seconds: byteRate ? bytes / byteRate : 0, samples: head.subarray(data, data + 8) };
    }
    offset = data + length + (length % 2);
  }
  return null;
}

function hearAudio({ head, size }, task) {
  ensure(size > 0, "audio is empty");
  const wav = wavInfo(head, size);
  const fail = wav ? AUDIO_FAIL.exec(ascii(wav.samples)) : null;
  if (fail) throw aiError(fail[1] ? Number(fail[1]) : UNKNOWN_ERROR_CODE);
  const duration = round3(wav ? wav.seconds : size / COMPRESSED_BYTES_PER_SECOND);
  const text = `${task === "translate" ? "Translated audio" : "Audio"} of ${duration.toFixed(2)} seconds.`;
  const list = words(text);
  const step = duration / list.length;
  const timed = list.map((word, i) => ({ word, start: round3(i * step), end: round3((i + 1) * step) }));
  return { text, duration, words: timed };
}

// WebVTT as the models return it: minutes:seconds.millis cues.
const vttTime = (s) => `${String(Math.floor(s / 60)).padStart(2, "0")}:${(s % 60).toFixed(3).padStart(6, "0")}`;
const vttOf = (cues) => `WEBVTT\n\n${cues.map((c) => `${vttTime(c.start)} --> ${vttTime(c.end)}\n${c.text}\n\n`).join("")}`;

async function transcribeAudio(spec, inputs) {
  if (!isObject(inputs)) throw invalidInput("inputs must be an object");
  if (spec.input === "byte-array") {
    const heard = hearAudio(readByteArray(inputs.audio), "transcribe");
    return { text: heard.text, word_count: heard.words.length, words: heard.words,
      vtt: vttOf(heard.words.map((w) => ({ ...w, text: w.word }))) };
  }
  ensure(inputs.audio != null, "'audio' is required");
  ensure(Array.isArray(inputs.audio) === false, "audio must be a base64 string or a stream input, not an array");
  const task = inputs.task ?? "transcribe";
  ensure(WHISPER_TASKS.includes(task), `task must be one of ${WHISPER_TASKS.join(", ")}`);
  for (const name of ["language", "initial_prompt", "prefix"]) {
    ensure(inputs[name] == null || typeof inputs[name] === "string", `${name} must be a string`);
  }
  const heard = hearAudio(await readTurboAudio(inputs.audio), task);
  const segment = { start: 0, end: heard.duration, text: heard.text, temperature: 0, avg_logprob: -0.2,
    compression_ratio: 1.2, no_speech_prob: 0.01, words: heard.words };
  return {
    transcription_info: { language: inputs.language ?? "en", language_probability: 0.99,
      duration: heard.duration, duration_after_vad: heard.duration },
    text: heard.text, word_count: heard.words.length, segments: [segment], vtt: vttOf([segment]),
  };
}

// Bytes that follow the text: a 256-byte pattern hashed from it, repeated.
function textBytes(text, length) {
  const pattern = Uint8Array.from({ length: 256 }, (_, i) => hash32(text, i) & 0xff);
  return Uint8Array.from({ length }, (_, i) => pattern[i % 256]);
}

function mp3Bytes(text) {
  const frames = 1 + Math.ceil(text.length / 16);
  const out = new Uint8Array(frames * MP3_FRAME_BYTES);
  const payload = textBytes(text, MP3_FRAME_BYTES - MP3_FRAME_HEADER.length);
  for (let f = 0; f < frames; f++) {
    out.set(MP3_FRAME_HEADER, f * MP3_FRAME_BYTES);
    out.set(payload, f * MP3_FRAME_BYTES + MP3_FRAME_HEADER.length);
  }
  return out;
}

// A WAV header for `dataBytes` of mono samples (format 1 PCM, 6 A-law, 7 mu-law).
function wavHeader(format, bitsPerSample, sampleRate, dataBytes) {
  const header = new DataView(new ArrayBuffer(44));
  const tag = (offset, text) => [...text].forEach((c, i) => header.setUint8(offset + i, c.charCodeAt(0)));
  const blockAlign = bitsPerSample / 8;
  tag(0, "RIFF"); header.setUint32(4, 36 + dataBytes, true); tag(8, "WAVE");
  tag(12, "fmt "); header.setUint32(16, 16, true); header.setUint16(20, format, true);
  header.setUint16(22, 1, true); header.setUint32(24, sampleRate, true);
  header.setUint32(28, sampleRate * blockAlign, true); header.setUint16(32, blockAlign, true);
  header.setUint16(34, bitsPerSample, true);
  tag(36, "data"); header.setUint32(40, dataBytes, true);
  return new Uint8Array(header.buffer);
}

function speechBytes(text, encoding, container, sampleRate) {
  if (encoding === "mp3") return mp3Bytes(text);
  const seconds = Math.min(MAX_SPEECH_SECONDS, SPEECH_SECONDS_PER_WORD * Math.max(1, words(text).length));
  const samples = Math.round(seconds * sampleRate);
  if (encoding === "linear16" || encoding === "mulaw" || encoding === "alaw") {
    const bits = encoding === "linear16" ? 16 : 8;
    const body = encoding === "linear16"
      ? new Uint8Array(Int16Array.from({ length: samples }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / sampleRate))).buffer)
      : textBytes(text, samples);
    if (container !== "wav") return body;
    const format = { linear16: 1, alaw: 6, mulaw: 7 }[encoding];
    const out = new Uint8Array(44 + body.length);
    out.set(wavHeader(format, bits, sampleRate, body.length));
    out.set(body, 44);
    return out;
  }
  const magic = { flac: [0x66, 0x4c, 0x61, 0x43], opus: [0x4f, 0x67, 0x67, 0x53], aac: [0xff, 0xf1, 0x50, 0x80] }[encoding];
  const out = new Uint8Array(magic.length + 256 + text.length);
  out.set(magic);
  out.set(textBytes(text, out.length - magic.length), magic.length);
  return out;
}

// The bytes in two reads, as a network stream delivers them.
function byteStream(bytes) {
  return new ReadableStream({
    type: "bytes",
    start(controller) {
      const half = bytes.length >> 1;
      controller.enqueue(bytes.slice(0, half));
      controller.enqueue(bytes.slice(half));
      controller.close();
    },
  });
}

function speakAura(inputs) {
  if (!isObject(inputs)) throw invalidInput("inputs must be an object");
  ensure(typeof inputs.text === "string" && inputs.text !== "", "'text' is required");
  const speaker = inputs.speaker ?? "angus";
  ensure(AURA_SPEAKERS.includes(speaker), `speaker must be one of ${AURA_SPEAKERS.join(", ")}`);
  const encoding = inputs.encoding ?? "mp3";
  ensure(AURA_ENCODINGS.includes(encoding), `encoding must be one of ${AURA_ENCODINGS.join(", ")}`);
  const container = inputs.container ?? "none";
  ensure(container in AURA_CONTAINERS, `container must be one of ${Object.keys(AURA_CONTAINERS).join(", ")}`);
  ensure(AURA_CONTAINERS[container].includes(encoding), `container ${container} cannot hold ${encoding}`);
  for (const name of ["sample_rate", "bit_rate"]) {
    ensure(inputs[name] == null || (Number.isInteger(inputs[name]) && inputs[name] > 0), `${name} must be a positive integer`);
  }
  return byteStream(speechBytes(`${speaker}:${inputs.text}`, encoding, container,
    inputs.sample_rate ?? AURA_DEFAULT_SAMPLE_RATE));
}

function speakMelotts(inputs) {
  if (!isObject(inputs)) throw invalidInput("inputs must be an object");
  ensure(typeof inputs.prompt === "string" && inputs.prompt !== "", "'prompt' is required");
  const lang = inputs.lang ?? "en";
  ensure(MELOTTS_LANGS.includes(lang), `lang must be one of ${MELOTTS_LANGS.join(", ")}`);
  return { audio: btoa(ascii(mp3Bytes(`${lang}:${inputs.prompt}`))) };
}

function runAudio(spec, inputs) {
  if (spec.task === "aura") return speakAura(inputs);
  if (spec.task === "melotts") return speakMelotts(inputs);
  return transcribeAudio(spec, inputs);
}

// --- Images --------------------------------------------------------------------------------------
// The image models in their real output shapes (shared notes workers-ai.md §2g): flux-1-schnell and
// lucid-origin answer {image: <base64 JPEG>}; phoenix a JPEG byte stream; the Stable Diffusion
// family a PNG byte stream; each a picture of the size asked for (flux-1-schnell: its 1024×1024)
// that follows from the prompt (pictures.js), so clients can decode and measure it. Inputs are checked as the schemas would: flux-1-schnell has
// additionalProperties:false (no width/height/seed), img2img needs `image` (or `image_b64`),
// inpainting that and `mask`, an array of byte values. [[fail:CODE]] in the prompt throws CODE.

// family: "flux" | "sd" | "lucid" | "phoenix"; size limits, step limit, default size, needs.
const SD_IMAGE = { family: "sd", maxSide: 2048, minSide: 256, maxSteps: 20, size: [1024, 1024] };
const IMAGE_MODELS = {
  "@cf/black-forest-labs/flux-1-schnell": { family: "flux" },
  "@cf/stabilityai/stable-diffusion-xl-base-1.0": SD_IMAGE,
  "@cf/bytedance/stable-diffusion-xl-lightning": SD_IMAGE,
  "@cf/lykon/dreamshaper-8-lcm": { ...SD_IMAGE, size: [512, 512] },
  "@cf/runwayml/stable-diffusion-v1-5-img2img": { ...SD_IMAGE, size: null, needs: ["image"] },
  "@cf/runwayml/stable-diffusion-v1-5-inpainting": { ...SD_IMAGE, size: null, needs: ["image", "mask"] },
  "@cf/leonardo/lucid-origin": { family: "lucid", maxSide: 2500, minSide: 0, maxSteps: 40, size: [1120, 1120] },
  "@cf/leonardo/phoenix-1.0": { family: "phoenix", maxSide: 2048, minSide: 0, maxSteps: 50, size: [1024, 1024] },
};
const FLUX_KEYS = ["prompt", "steps"];
const FLUX_MAX_PROMPT = 2048;
const FLUX_MAX_STEPS = 8;
const FLUX_SIZE = [1024, 1024]; // flux-1-schnell takes no size: it makes this

const isInt = (value) => Number.isInteger(value);
const isByteArray = (value) => Array.isArray(value) && value.length > 0
  && value.every((b) => isInt(b) && b >= 0 && b <= 255);

function readImageInputs(model, spec, inputs) {
  ensure(isObject(inputs), "inputs must be an object");
  const { prompt } = inputs;
  ensure(typeof prompt === "string" && prompt.length > 0, "'prompt' must be a non-empty string");
  if (spec.family === "flux") {
    const extra = Object.keys(inputs).filter((key) => !FLUX_KEYS.includes(key));
    ensure(extra.length === 0, `additionalProperties not allowed: ${extra.join(", ")}`);
    ensure(prompt.length <= FLUX_MAX_PROMPT, `'prompt' must be at most ${FLUX_MAX_PROMPT} characters`);
    ensure(inputs.steps === undefined || (isInt(inputs.steps) && inputs.steps >= 1 && inputs.steps <= FLUX_MAX_STEPS),
      `'steps' must be an integer from 1 to ${FLUX_MAX_STEPS}`);
    return { prompt };
  }
  for (const side of ["width", "height"]) {
    const value = inputs[side];
    ensure(value === undefined || (isInt(value) && value >= spec.minSide && value <= spec.maxSide),
      `'${side}' must be an integer from ${spec.minSide} to ${spec.maxSide}`);
  }
  const steps = inputs.num_steps ?? (spec.family === "lucid" ? inputs.steps : undefined);
  ensure(steps === undefined || (isInt(steps) && steps >= 1 && steps <= spec.maxSteps),
    `'num_steps' must be an integer from 1 to ${spec.maxSteps}`);
  ensure(inputs.strength === undefined || (typeof inputs.strength === "number" && inputs.strength >= 0 && inputs.strength <= 1),
    "'strength' must be a number from 0 to 1");
  ensure(inputs.guidance === undefined || typeof inputs.guidance === "number", "'guidance' must be a number");
  const image = readInputImage(model, spec, inputs);
  if (inputs.mask !== undefined || (spec.needs ?? []).includes("mask")) {
    ensure(isByteArray(inputs.mask), `'mask' must be an array of byte values (uint8) for ${model}`);
  }
  if ((spec.needs ?? []).includes("mask")) checkInpaintMask(image, inputs.mask);
  const size = inputs.width && inputs.height ? [inputs.width, inputs.height]
    : spec.size ?? pngSize(image) ?? [512, 512];
  return { prompt, size };
}

// AiTextToImageInput takes the input image as `image` (an array of byte values) or `image_b64` (a
// base64 string); the mask only as an array. Sending both is refused here: which one the model
// would use is not documented.
function readInputImage(model, spec, inputs) {
  const { image, image_b64: encoded } = inputs;
  ensure(image === undefined || encoded === undefined, "send either 'image' or 'image_b64', not both");
  if (encoded !== undefined) {
    ensure(typeof encoded === "string" && encoded.length > 0, `'image_b64' must be a non-empty base64 string for ${model}`);
    const binary = attempt(() => atob(encoded), `'image_b64' is not valid base64 for ${model}`);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }
  if (image !== undefined || (spec.needs ?? []).includes("image")) {
    ensure(isByteArray(image), `'image' must be an array of byte values (uint8) or 'image_b64' a base64 string for ${model}`);
  }
  return image;
}

// Stricter than the real model (which takes any image it can decode): our proxy must send the
// mask it derives from OpenAI's alpha semantics as an 8-bit grayscale PNG (IHDR color type 0)
// of the image's size, white = repaint, black = keep.
function checkInpaintMask(image, mask) {
  const size = pngSize(mask);
  ensure(size && mask[0] === 0x89 && String.fromCharCode(...mask.slice(12, 16)) === "IHDR",
    "'mask' must be a PNG image");
  ensure(mask[24] === 8 && mask[25] === 0, "'mask' must be an 8-bit grayscale PNG (color type 0)");
  const imageSize = pngSize(image);
  ensure(!imageSize || (size[0] === imageSize[0] && size[1] === imageSize[1]),
    `'mask' is ${size.join("x")} but 'image' is ${imageSize?.join("x")}; they must be the same size`);
}

// The (width, height) in a PNG's IHDR, or null.
function pngSize(bytes) {
  if (!bytes || bytes.length < 24 || bytes[1] !== 0x50 || bytes[2] !== 0x4e) return null;
  const word = (at) => ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
  return [word(16), word(20)];
}

const imageStream = (bytes) => new Response(bytes).body;

async function generateImage(model, inputs) {
  const spec = IMAGE_MODELS[model];
  const req = readImageInputs(model, spec, inputs);
  const { markers } = parseMarkers(req.prompt);
  if ("fail" in markers) throw aiError(toInt(markers.fail) || UNKNOWN_ERROR_CODE);
  const [width, height] = req.size ?? FLUX_SIZE;
  const seed = hash32(req.prompt, 0);
  if (spec.family === "flux" || spec.family === "lucid") return { image: btoa(ascii(jpeg(width, height, seed))) };
  if (spec.family === "phoenix") return imageStream(jpeg(width, height, seed));
  return imageStream(await png(width, height, seed));
}

// --- Asynchronous batch API (features/batch-api) -------------------------------------------------
// run(model, {requests: [...]}, {queueRequest: true}) → {status: "queued", request_id, model}; then
// run(model, {request_id}) → {status: "queued" | "running", request_id} until the results are ready,
// then {responses: [{id, result, success, external_reference}], usage}. Text results are nested under
// `result` as the docs show them; a request that fails has success false and its error in `result`.
// The batch takes QUEUE_DELAY_MS to run; payloads of 10 MB or more are refused, as Workers AI does.
const QUEUEABLE = new Set(["@cf/meta/llama-3.3-70b-instruct-fp8-fast", "@cf/baai/bge-small-en-v1.5",
  "@cf/baai/bge-base-en-v1.5", "@cf/baai/bge-large-en-v1.5", "@cf/baai/bge-m3"]);
const QUEUE_DELAY_MS = 200;
const MAX_QUEUE_PAYLOAD = 10 * 1024 * 1024;
const MAX_QUEUED = 1000; // batches kept for polling; the oldest are forgotten first
const queuedBatches = new Map();
let batchCounter = 0;

function queueBatch(entry, model, inputs) {
  if (!QUEUEABLE.has(model)) throw invalidInput(`${model} does not support queueRequest`);
  ensure(isObject(inputs) && Array.isArray(inputs.requests) && inputs.requests.length > 0,
    "'requests' must be a non-empty array");
  if (encoder.encode(JSON.stringify(inputs)).length >= MAX_QUEUE_PAYLOAD) throw aiError(3006);
  const requestId = `standin-batch-${++batchCounter}`;
  const started = Date.now();
  const results = Promise.all(inputs.requests.map((request, id) => queuedResult(entry, model, request, id)));
  queuedBatches.set(requestId, { model, started, results });
  if (queuedBatches.size > MAX_QUEUED) queuedBatches.delete(queuedBatches.keys().next().value);
  return { status: "queued", request_id: requestId, model };
}

async function queuedResult(entry, model, request, id) {
  const reference = request?.external_reference ?? null;
  try {
    ensure(isObject(request) && !request.stream, "each request must be an object without 'stream'");
    const { external_reference: _, ...inputs } = request;
    const output = await entry.run(model, inputs, {});
    const { usage, ...result } = output;
    return { id, result: MODELS[model].task === "text" ? { result } : result, success: true,
      external_reference: reference, usage };
  } catch (error) {
    const match = /^(\d+): ([\s\S]*)$/.exec(error?.message ?? "");
    return { id, result: { errors: [{ code: match ? Number(match[1]) : UNKNOWN_ERROR_CODE,
      message: match ? match[2] : String(error?.message ?? error) }] }, success: false, external_reference: reference };
  }
}

async function pollBatch(model, requestId) {
  const batch = queuedBatches.get(requestId);
  if (batch === undefined || batch.model !== model) throw invalidInput(`no batch ${requestId} for ${model}`);
  const elapsed = Date.now() - batch.started;
  if (elapsed < QUEUE_DELAY_MS) return { status: elapsed < QUEUE_DELAY_MS / 2 ? "queued" : "running", request_id: requestId };
  const entries = await batch.results;
  const usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
  for (const entry of entries) {
    for (const key of Object.keys(usage)) usage[key] += entry.usage?.[key] ?? 0;
  }
  return { responses: entries.map(({ usage: _, ...entry }) => entry), usage };
}

// --- HTTP ----------------------------------------------------------------------------------------

// The error body of the REST API: {"success": false, "errors": [{code, message}]}.
function errorResponse(error) {
  const match = /^(\d+): ([\s\S]*)$/.exec(error?.message ?? "");
  const code = match ? Number(match[1]) : UNKNOWN_ERROR_CODE;
  const message = match ? match[2] : String(error?.message ?? error);
  return Response.json(
    { success: false, errors: [{ code, message }] },
    { status: HTTP_STATUS[code] ?? 500 },
  );
}

export default class extends WorkerEntrypoint {
  // Of `options`, only extraHeaders["x-session-affinity"] (prompt caching) has a local meaning;
  // gateway, returnRawResponse and the rest are accepted and ignored.
  async run(model, inputs, options) {
    if (options?.queueRequest) return queueBatch(this, model, inputs);
    if (QUEUEABLE.has(model) && isObject(inputs) && typeof inputs.request_id === "string") {
      return pollBatch(model, inputs.request_id);
    }
    if (model in AUDIO_MODELS) return runAudio(AUDIO_MODELS[model], inputs);
    if (model in IMAGE_MODELS) return generateImage(model, inputs);
    const spec = MODELS[model];
    if (spec === undefined) throw aiError(5007, `No such model ${model} or task`);
    if (spec.task === "guard") return moderate(inputs);
    return spec.task === "embed" ? embed(spec, inputs) : generateText(model, spec, inputs, options);
  }

  // GET / is a readiness probe; POST /run is the same call as `run`, over HTTP, so a benchmark
  // can measure the stand-in directly, without the service binding in between.
  async fetch(request) {
    const { pathname } = new URL(request.url);
    if (request.method === "GET" && pathname === "/") return new Response("ai-standin");
    if (request.method !== "POST" || pathname !== "/run") return new Response("Not found", { status: 404 });

    try {
      let body;
      try {
        body = await request.json();
      } catch {
        throw invalidInput("request body must be JSON");
      }
      if (!isObject(body)) throw invalidInput("request body must be a JSON object");

      const result = await this.run(body.model, body.inputs, body.options);
      if (result instanceof ReadableStream) {
        return new Response(result, { headers: { "content-type": "text/event-stream" } });
      }
      return Response.json(result);
    } catch (error) {
      return errorResponse(error);
    }
  }
}

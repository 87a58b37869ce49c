// Local stand-in for the Workers AI binding (`env.AI`), for development and tests only.
//
// The Python Worker reaches it over a service binding as `await env.AI.run(model, inputs, options)`
// (an RPC call to `run` below), so it must answer in exactly the shapes the real models use, and
// deterministically, so tests can assert on the results. Errors are thrown as
// `new Error("<code>: <description>")`, which is how the real binding's InferenceUpstreamError reads.
//
// Behaviour is steered from the test side with markers in the user text, e.g. "[[words:5]]",
// "[[delay:200]]", "[[fail:3040]]" (see `parseMarkers`).

import { WorkerEntrypoint } from "cloudflare:workers";

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
};

// The real native text models stop at 256 generated tokens unless max_tokens says otherwise.
const NATIVE_DEFAULT_MAX_TOKENS = 256;

// --- Errors --------------------------------------------------------------------------------------
const ERROR_DESCRIPTIONS = {
  3040: "Capacity temporarily exceeded, please try again.",
  3036: "You have used up your daily free allocation of 10,000 neurons, please upgrade to Cloudflare's Workers Paid plan if you would like to continue usage.",
  5007: "No such model",
  8001: "Invalid input",
  3006: "Request is too large",
  3007: "Request timeout",
};
const DEFAULT_ERROR_DESCRIPTION = "Internal server error";
// Code used over HTTP when an error does not carry a "<code>: " prefix.
const UNKNOWN_ERROR_CODE = 3000;

// HTTP status for each error code on the direct `POST /run` route; anything else is a 500.
const HTTP_STATUS = { 5007: 400, 8001: 400, 3036: 429, 3040: 429, 3006: 413, 3007: 408, 3008: 408 };

function aiError(code, description = ERROR_DESCRIPTIONS[code] ?? DEFAULT_ERROR_DESCRIPTION) {
  return new Error(`${code}: ${description}`);
}

function invalidInput(detail) {
  return aiError(8001, `Invalid input: ${detail}`);
}

// --- Small helpers -----------------------------------------------------------------------------
const isObject = (value) => typeof value === "object" && value !== null && !Array.isArray(value);
const words = (text) => text.split(/\s+/).filter(Boolean);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const toInt = (value) => Number.parseInt(value ?? "", 10) || 0;

// Test-control markers such as "[[words:5]]" or "[[fail-mid:3040]]"; the last one of a name wins.
const MARKER = /\[\[(\w+(?:-\w+)?)(?::([\w,]+))?\]\]/g;

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

// --- Text generation -----------------------------------------------------------------------------

// Validates the request and returns what generation needs: the prompt size, the user text that
// carries the markers, and the cap on generated words. A null limit counts as absent, like `??`.
function readTextRequest(inputs, spec) {
  if (!isObject(inputs)) throw invalidInput("inputs must be an object");

  let texts;
  let userText;
  if (inputs.messages != null) {
    const { messages } = inputs;
    if (!Array.isArray(messages) || messages.length === 0) {
      throw invalidInput("'messages' must be a non-empty array");
    }
    if (!messages.every(isObject)) throw invalidInput("each message must be an object");
    texts = messages.map((message) => contentText(message.content));
    userText = contentText(messages.findLast((message) => message.role === "user")?.content);
  } else if (typeof inputs.prompt === "string" && inputs.prompt.length > 0) {
    texts = [inputs.prompt];
    userText = inputs.prompt;
  } else {
    throw invalidInput("either 'messages' (non-empty array) or 'prompt' (non-empty string) is required");
  }

  const limit = (name) => {
    const value = inputs[name];
    if (value == null) return undefined;
    if (!Number.isInteger(value) || value <= 0) throw invalidInput(`'${name}' must be a positive integer`);
    return value;
  };
  const maxTokens = spec.input === "oai"
    ? limit("max_completion_tokens") ?? limit("max_tokens") ?? Infinity
    : limit("max_tokens") ?? NATIVE_DEFAULT_MAX_TOKENS;

  const promptTokens = texts.reduce((sum, text) => sum + words(text).length, 0);
  return { promptTokens, userText, maxTokens };
}

// The reply is either "w1 ... wN" ([[words:N]]) or an echo of the user text, cut to maxTokens words.
function planCompletion(clean, markers, maxTokens) {
  let replyWords;
  let replyLength;
  if ("words" in markers) {
    replyLength = toInt(markers.words);
    // Only build the words that will be emitted, so a huge N under a small cap stays cheap.
    replyWords = Array.from({ length: Math.min(replyLength, maxTokens) }, (_, i) => `w${i + 1}`);
  } else {
    const echo = words(`Echo: ${clean}`);
    replyLength = echo.length;
    replyWords = echo.slice(0, maxTokens);
  }
  return { words: replyWords, finishReason: replyWords.length < replyLength ? "length" : "stop" };
}

function usageOf(promptTokens, completionTokens) {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}

let completionCounter = 0;

// The fields every OpenAI-shaped result and chunk starts with, in the real key order.
function envelope(gen, object) {
  return { id: gen.id, object, created: gen.created, model: gen.model };
}

function nativeResult(gen) {
  return { response: gen.words.join(" "), tool_calls: [], usage: gen.usage };
}

function oaiResult(gen) {
  return {
    ...envelope(gen, "chat.completion"),
    choices: [{
      index: 0,
      message: { role: "assistant", content: gen.words.join(" "), reasoning_content: null, tool_calls: [] },
      logprobs: null,
      finish_reason: gen.finishReason,
    }],
    usage: { ...gen.usage, prompt_tokens_details: { cached_tokens: 0 } },
  };
}

// Real streams carry a "p" field of random padding; ours varies in length (1-12) but predictably.
const PADDING = "abcdefghijkl";
const padding = (i) => PADDING.slice(0, 1 + ((i * 7 + 3) % PADDING.length));

const sse = (payload) => `data: ${JSON.stringify(payload)}\n\n`;
const SSE_DONE = "data: [DONE]\n\n";

// The SSE events of a streamed completion, in order. With fail-mid only the first two content
// events are produced (the caller then errors the stream).
function streamEvents(gen, output, failMid) {
  const streamed = failMid ? gen.words.slice(0, 2) : gen.words;
  const pieces = streamed.map((word, i) => (i === 0 ? word : ` ${word}`));
  const { prompt_tokens: promptTokens } = gen.usage;

  if (output === "native") {
    const events = pieces.map((piece, i) => sse({ response: piece, p: padding(i) }));
    if (!failMid) events.push(sse({ response: "", usage: gen.usage }), SSE_DONE);
    return events;
  }

  const chunk = (delta, finishReason, extra = {}) => sse({
    ...envelope(gen, "chat.completion.chunk"),
    choices: [{ index: 0, delta, finish_reason: finishReason }],
    ...extra,
  });
  const events = [
    chunk({ role: "assistant", content: "" }, null),
    // Like the real OpenAI-shaped models, each chunk reports the usage of that chunk alone.
    ...pieces.map((piece, i) => chunk({ content: piece, reasoning_content: null }, null, {
      p: padding(i), usage: usageOf(promptTokens, 1),
    })),
  ];
  if (!failMid) {
    // The binding appends a native-style usage event with the cumulative totals.
    events.push(chunk({}, gen.finishReason), sse({ response: "", usage: gen.usage }), SSE_DONE);
  }
  return events;
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
function sseStream(events, { delayMs, split, failCode }) {
  const encoder = new TextEncoder();
  let next = 0;
  let cancelled = false;
  return new ReadableStream({
    async pull(controller) {
      if (next === events.length) {
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

async function generateText(model, spec, inputs) {
  const { promptTokens, userText, maxTokens } = readTextRequest(inputs, spec);
  const { markers, clean } = parseMarkers(userText);

  if ("slow" in markers) await sleep(toInt(markers.slow));
  if ("fail" in markers) throw aiError(toInt(markers.fail) || UNKNOWN_ERROR_CODE);

  const gen = planCompletion(clean, markers, maxTokens);
  gen.usage = usageOf(promptTokens, gen.words.length);
  gen.id = `chatcmpl-standin-${++completionCounter}`;
  gen.created = Math.floor(Date.now() / 1000);
  gen.model = model;

  if (inputs.stream === true) {
    const failMid = "fail-mid" in markers;
    return sseStream(streamEvents(gen, spec.output, failMid), {
      delayMs: toInt(markers.delay),
      split: "split" in markers,
      failCode: failMid ? toInt(markers["fail-mid"]) || UNKNOWN_ERROR_CODE : undefined,
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
  // `options` (gateway, returnRawResponse, ...) has no local meaning, so it is accepted and ignored.
  async run(model, inputs, options) {
    const spec = MODELS[model];
    if (spec === undefined) throw aiError(5007, `No such model ${model} or task`);
    return spec.task === "embed" ? embed(spec, inputs) : generateText(model, spec, inputs);
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

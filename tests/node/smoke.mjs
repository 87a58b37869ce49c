// Smoke test of every endpoint family with the official `openai` npm package (pinned in
// package-lock.json) against a running worker: node tests/node/smoke.mjs BASE_URL API_KEY.
// Prints one `ok NAME` or `not ok NAME: error` line per family; exits 1 if any failed.
// tests/integration/test_node_sdk.py runs it against the dev server. A new endpoint family is
// one more entry in CHECKS (and in that test's FAMILIES).
import assert from "node:assert/strict";
import OpenAI, { BadRequestError, NotFoundError, toFile } from "openai";

const [baseURL, apiKey] = process.argv.slice(2);
const client = new OpenAI({ baseURL: `${baseURL}/v1`, apiKey, maxRetries: 0, timeout: 30_000 });
const CHAT = "gpt-4o-mini";
const WEATHER = { type: "function", function: { name: "get_weather", description: "Weather of a city",
  parameters: { type: "object", properties: { city: { type: "string", description: "City" } }, required: ["city"] } } };

// A one-second silent 16 kHz mono WAV.
function wav(seconds = 1) {
  const samples = 16000 * seconds;
  const out = Buffer.alloc(44 + samples * 2);
  out.write("RIFF", 0); out.writeUInt32LE(36 + samples * 2, 4); out.write("WAVEfmt ", 8);
  out.writeUInt32LE(16, 16); out.writeUInt16LE(1, 20); out.writeUInt16LE(1, 22); out.writeUInt32LE(16000, 24);
  out.writeUInt32LE(32000, 28); out.writeUInt16LE(2, 32); out.writeUInt16LE(16, 34);
  out.write("data", 36); out.writeUInt32LE(samples * 2, 40);
  return out;
}

const CHECKS = {
  async models() {
    const ids = [];
    for await (const model of client.models.list()) ids.push(model.id);
    assert.ok(ids.includes(CHAT) && ids.includes("text-embedding-3-small"));
    assert.equal((await client.models.retrieve(CHAT)).id, CHAT);
  },
  async chat() {
    const reply = await client.chat.completions.create({ model: CHAT, messages: [{ role: "user", content: "hello node" }] });
    assert.equal(reply.choices[0].message.content, "Echo: hello node");
    assert.equal(reply.choices[0].finish_reason, "stop");
    assert.ok(reply.usage.total_tokens > 0);
  },
  async chat_stream() {
    const stream = await client.chat.completions.create({ model: CHAT, stream: true, stream_options: { include_usage: true },
      messages: [{ role: "user", content: "[[words:5]] stream" }] });
    let text = "";
    let usage = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? "";
      usage = chunk.usage ?? usage;
    }
    assert.equal(text, "w1 w2 w3 w4 w5");
    assert.equal(usage.completion_tokens, 5);
    const runner = client.chat.completions.stream({ model: CHAT, messages: [{ role: "user", content: "[[words:3]] helper" }] });
    assert.equal((await runner.finalChatCompletion()).choices[0].message.content, "w1 w2 w3");
  },
  async chat_tools() {
    const reply = await client.chat.completions.create({ model: "gpt-4o", tools: [WEATHER], tool_choice: "required",
      messages: [{ role: "user", content: "[[call]] weather in Oslo?" }] });
    const [call] = reply.choices[0].message.tool_calls;
    assert.equal(reply.choices[0].finish_reason, "tool_calls");
    assert.equal(call.function.name, "get_weather");
    assert.equal(typeof JSON.parse(call.function.arguments), "object");
    const answer = await client.chat.completions.create({ model: "gpt-4o", tools: [WEATHER], messages: [
      { role: "user", content: "[[call]] weather in Oslo?" }, reply.choices[0].message,
      { role: "tool", tool_call_id: call.id, content: "sunny" }] });
    assert.equal(answer.choices[0].message.content, "Tool said: sunny");
  },
  async completions() {
    const reply = await client.completions.create({ model: "gpt-3.5-turbo-instruct", prompt: "[[words:4]] once upon" });
    assert.equal(reply.choices[0].text, "w1 w2 w3 w4");
  },
  async embeddings() {
    const reply = await client.embeddings.create({ model: "text-embedding-3-small", input: ["one", "two"] });
    assert.deepEqual(reply.data.map((d) => [d.index, d.embedding.length]), [[0, 768], [1, 768]]);
    const ids = await client.embeddings.create({ model: "text-embedding-3-small", input: [[15339, 1917]] });
    assert.equal(ids.usage.prompt_tokens, 2);
    await assert.rejects(client.embeddings.create({ model: "@cf/baai/bge-base-en-v1.5", input: [15339] }), BadRequestError);
  },
  async images() {
    const reply = await client.images.generate({ model: "dall-e-2", prompt: "a red fox", size: "256x256", response_format: "b64_json" });
    assert.equal(Buffer.from(reply.data[0].b64_json, "base64").subarray(1, 4).toString(), "PNG");
    const linked = await client.images.generate({ model: "dall-e-2", prompt: "a red fox", size: "256x256", response_format: "url" });
    assert.equal((await fetch(linked.data[0].url)).headers.get("content-type"), "image/png");
  },
  async audio() {
    const speech = await client.audio.speech.create({ model: "tts-1", voice: "alloy", input: "Hello from Node." });
    assert.ok((await speech.arrayBuffer()).byteLength > 100);
    const file = await toFile(wav(), "one-second.wav", { type: "audio/wav" });
    const heard = await client.audio.transcriptions.create({ model: "whisper-1", file });
    assert.equal(heard.text, "Audio of 1.00 seconds.");
    const translated = await client.audio.translations.create({ model: "whisper-1", file: await toFile(wav(), "a.wav") });
    assert.equal(translated.text, "Translated audio of 1.00 seconds.");
  },
  async moderations() {
    const reply = await client.moderations.create({ model: "omni-moderation-latest", input: "a kind sentence" });
    assert.equal(reply.results[0].flagged, false);
  },
  async files() {
    const made = await client.files.create({ file: await toFile(Buffer.from("node notes"), "notes.txt"), purpose: "assistants" });
    assert.equal((await client.files.retrieve(made.id)).filename, "notes.txt");
    assert.equal(await (await client.files.content(made.id)).text(), "node notes");
    const listed = [];
    for await (const file of client.files.list()) listed.push(file.id);
    assert.ok(listed.includes(made.id));
    assert.equal((await client.files.delete(made.id)).deleted, true);
  },
  async vector_stores() {
    const file = await client.files.create({ file: await toFile(Buffer.from("Oslo is the capital of Norway."), "oslo.txt"),
      purpose: "assistants" });
    const store = await client.vectorStores.create({ name: "node smoke" });
    const attached = await client.vectorStores.files.createAndPoll(store.id, { file_id: file.id }, { pollIntervalMs: 300 });
    assert.equal(attached.status, "completed");
    let found = [];
    for (let i = 0; i < 20 && !found.length; i++) { // Vectorize makes vectors queryable shortly after
      found = (await client.vectorStores.search(store.id, { query: "capital of Norway" })).data;
      if (!found.length) await new Promise((resolve) => setTimeout(resolve, 300));
    }
    assert.equal(found[0].file_id, file.id);
    assert.equal((await client.vectorStores.delete(store.id)).deleted, true);
  },
  async responses() {
    const reply = await client.responses.create({ model: CHAT, input: "hello responses", instructions: "Be brief." });
    assert.equal(reply.output_text, "Echo: hello responses");
    assert.equal((await client.responses.retrieve(reply.id)).output_text, reply.output_text);
    const stream = await client.responses.create({ model: CHAT, input: "[[words:4]] stream", stream: true });
    let text = "";
    for await (const event of stream) if (event.type === "response.output_text.delta") text += event.delta;
    assert.equal(text, "w1 w2 w3 w4");
    const chained = await client.responses.create({ model: CHAT, previous_response_id: reply.id, input: "again" });
    assert.equal(chained.previous_response_id, reply.id);
    await client.responses.delete(reply.id);
    await assert.rejects(client.responses.retrieve(reply.id), NotFoundError);
  },
  async conversations() {
    const conversation = await client.conversations.create({ metadata: { topic: "smoke" } });
    await client.responses.create({ model: CHAT, conversation: conversation.id, input: "remember me" });
    const items = [];
    for await (const item of client.conversations.items.list(conversation.id, { order: "asc" })) items.push(item);
    assert.deepEqual(items.map((item) => item.role), ["user", "assistant"]);
    assert.equal((await client.conversations.delete(conversation.id)).deleted, true);
  },
  async assistants() {
    const assistant = await client.beta.assistants.create({ model: CHAT, tools: [WEATHER] });
    const thread = await client.beta.threads.create({ messages: [{ role: "user", content: "[[call]] Weather in Paris?" }] });
    const poll = { pollIntervalMs: 200 };
    const waiting = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, poll);
    assert.equal(waiting.status, "requires_action");
    const [call] = waiting.required_action.submit_tool_outputs.tool_calls;
    const done = await client.beta.threads.runs.submitToolOutputsAndPoll(waiting.id,
      { thread_id: thread.id, tool_outputs: [{ tool_call_id: call.id, output: "sunny" }] }, poll);
    assert.equal(done.status, "completed");
    const stream = client.beta.threads.runs.stream(thread.id, { assistant_id: assistant.id,
      additional_messages: [{ role: "user", content: "[[words:3]] count" }] });
    let text = "";
    stream.on("textDelta", (delta) => { text += delta.value; });
    assert.equal((await stream.finalRun()).status, "completed");
    assert.equal(text, "w1 w2 w3");
    const messages = [];
    for await (const message of client.beta.threads.messages.list(thread.id, { order: "asc" })) messages.push(message);
    assert.deepEqual(messages.map((m) => m.content[0].text.value),
      ["[[call]] Weather in Paris?", "Tool said: sunny", "[[words:3]] count", "w1 w2 w3"]);
  },
  async batches() {
    const lines = ["one", "two"].map((text) => JSON.stringify({ custom_id: text, method: "POST", url: "/v1/chat/completions",
      body: { model: CHAT, messages: [{ role: "user", content: text }] } }));
    const input = await client.files.create({ file: await toFile(Buffer.from(lines.join("\n") + "\n"), "requests.jsonl"),
      purpose: "batch" });
    let batch = await client.batches.create({ input_file_id: input.id, endpoint: "/v1/chat/completions",
      completion_window: "24h", metadata: { from: "node" } });
    assert.equal(batch.status, "validating");
    for (let i = 0; i < 200 && !["completed", "failed", "cancelled", "expired"].includes(batch.status); i++) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      batch = await client.batches.retrieve(batch.id);
    }
    assert.equal(batch.status, "completed", JSON.stringify(batch.errors));
    assert.deepEqual(batch.request_counts, { total: 2, completed: 2, failed: 0 });
    const output = (await (await client.files.content(batch.output_file_id)).text()).trim().split("\n").map((line) => JSON.parse(line));
    assert.deepEqual(output.map((line) => [line.custom_id, line.response.status_code, line.response.body.choices[0].message.content]),
      [["one", 200, "Echo: one"], ["two", 200, "Echo: two"]]);
    const listed = [];
    for await (const item of client.batches.list()) listed.push(item.id);
    assert.ok(listed.includes(batch.id));
  },
  async stored_chat_completions() {
    const made = await client.chat.completions.create({ model: CHAT, store: true, metadata: { from: "node" },
      messages: [{ role: "system", content: "be brief" }, { role: "user", content: "keep this" }] });
    const listed = [];
    for await (const item of client.chat.completions.list({ metadata: { from: "node" } })) listed.push(item.id);
    assert.deepEqual(listed, [made.id]);
    const kept = await client.chat.completions.retrieve(made.id);
    assert.equal(kept.choices[0].message.content, "Echo: keep this");
    const messages = [];
    for await (const message of client.chat.completions.messages.list(made.id)) messages.push([message.role, message.content]);
    assert.deepEqual(messages, [["system", "be brief"], ["user", "keep this"]]);
    assert.equal((await client.chat.completions.delete(made.id)).deleted, true);
    await assert.rejects(client.chat.completions.retrieve(made.id), NotFoundError);
  },
};

let failed = 0;
for (const [name, check] of Object.entries(CHECKS)) {
  try {
    await check();
    console.log(`ok ${name}`);
  } catch (error) {
    failed += 1;
    console.log(`not ok ${name}: ${String(error?.stack ?? error).split("\n").slice(0, 4).join(" | ")}`);
  }
}
process.exit(failed ? 1 : 0);

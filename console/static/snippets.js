// "Copy as curl" and "Copy as Python SDK": the exact request the playground would send, with the
// key as $OPENAI_API_KEY (the key itself is never written into the page).

const shellQuote = (text) => `'${text.replace(/'/g, `'\\''`)}'`;

/** A JSON value as Python source (True/False/None), indented when it does not fit one line. */
export function python(value, indent = "") {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value !== "object") return JSON.stringify(value); // JSON string escapes are Python's too
  const inner = indent + "    ";
  const array = Array.isArray(value);
  const items = array ? value.map((v) => python(v, inner))
    : Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${python(v, inner)}`);
  const [open, close] = array ? ["[", "]"] : ["{", "}"];
  const flat = `${open}${items.join(", ")}${close}`;
  if (flat.length + indent.length <= 88 && !flat.includes("\n")) return flat;
  return `${open}\n${items.map((item) => `${inner}${item},`).join("\n")}\n${indent}${close}`;
}

/** request: {path, call, json?, form?, output?, stream?} (see playground.js). */
export function curl(request) {
  const lines = [`curl ${location.origin}${request.path}${request.stream ? " --no-buffer" : ""}`,
    `-H "Authorization: Bearer $OPENAI_API_KEY"`];
  if (request.json) {
    lines.push(`-H "Content-Type: application/json"`, `-d ${shellQuote(JSON.stringify(request.json, null, 2))}`);
  }
  for (const [name, value] of Object.entries(request.form || {})) {
    lines.push(`-F ${shellQuote(typeof value === "object" ? `${name}=@${value.file}` : `${name}=${value}`)}`);
  }
  if (request.output) lines.push(`--output ${shellQuote(request.output)}`);
  return lines.join(" \\\n  ");
}

export function pythonSdk(request) {
  const args = Object.entries(request.json || request.form || {}).map(([name, value]) =>
    `    ${name}=${value && value.file ? "audio" : python(value, "    ")},`);
  const call = `client.${request.call}(\n${args.join("\n")}\n)`;
  const head = ["import os", "", "from openai import OpenAI", "",
    `client = OpenAI(base_url=${JSON.stringify(location.origin + "/v1")}, api_key=os.environ["OPENAI_API_KEY"])`];
  let body;
  if (request.stream) {
    body = [`stream = ${call}`, "for chunk in stream:", "    if chunk.choices:",
      `        print(chunk.choices[0].delta.content or "", end="", flush=True)`];
  } else if (request.output) {
    body = [`${call}.write_to_file(${JSON.stringify(request.output)})`];
  } else if (request.form) {
    const file = Object.values(request.form).find((value) => value && value.file);
    body = [`with open(${JSON.stringify(file.file)}, "rb") as audio:`,
      ...`result = ${call}`.split("\n").map((line) => `    ${line}`), "print(result)"];
  } else {
    body = [`result = ${call}`, "print(result)"];
  }
  return [...head, "", ...body].join("\n");
}

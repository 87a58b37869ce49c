// Calls to the worker's API with the signed-in key. The key lives in sessionStorage (this tab
// only) and leaves the page only as the Authorization header: never in a URL or a cookie.

const STORAGE = "workers-openai.key";

export const session = {
  get key() { return sessionStorage.getItem(STORAGE); },
  start(key) { sessionStorage.setItem(STORAGE, key); },
  end() { sessionStorage.removeItem(STORAGE); },
};

export class ApiError extends Error {
  constructor(status, message, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function failure(response) {
  let message = `HTTP ${response.status}`;
  let code = null;
  try {
    const body = await response.json();
    message = body.error?.message || message;
    code = body.error?.code || null;
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(response.status, message, code);
}

/** fetch an API path; JSON in (json) or a FormData (form); JSON out, or the Response (raw). */
export async function api(path, { method = "GET", json, form, signal, raw = false, key = session.key } = {}) {
  const headers = { authorization: `Bearer ${key}` };
  let body;
  if (json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form) {
    body = form;
  }
  const response = await fetch(path, { method, headers, body, signal, credentials: "omit", cache: "no-store" });
  if (!response.ok) throw await failure(response);
  return raw ? response : response.json();
}

/** The data payloads of a server-sent event stream, as strings, as they arrive. */
export async function* events(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = event.split("\n").filter((line) => line.startsWith("data:")).map((line) => line.slice(5).trimStart());
      if (data.length) yield data.join("\n");
    }
  }
}

// Local stand-in for the Vectorize (V2) binding (`env.VECTORIZE`), for development and tests only:
// `wrangler dev` does not simulate Vectorize (workers-sdk #4360).
//
// The Python Worker reaches it over a service binding, so the RPC methods of the default export
// are the binding's own: insert, upsert, query, queryById, getByIds, deleteByIds, describe — same
// arguments, same result shapes (workerd types/defines/vectorize.d.ts), same limits, and errors
// thrown as the binding throws them: `new Error("VECTOR_<OP>_ERROR (code = N): ...")`. Codes 40006
// (query dimensions), 40008 (id length), 40012 (vector dimensions) and 40025 (topK) and their texts
// are the service's; 40026 stands for any other invalid input. Scores are EXACT cosine similarity
// over float32 values (the service stores float32 and answers approximately).
//
// Faithful where it can bite in production:
// - Filters only see properties that have a metadata index (METADATA_INDEXES, "name:type,...",
//   mirroring `wrangler vectorize create-metadata-index`); a filter on any other property matches as
//   if no vector had it (and the stand-in logs a warning). Indexed strings are their first 64 bytes.
//   returnMetadata "indexed" returns only those properties. METADATA_INDEXES="*" indexes everything.
// - insert() never overwrites: ids that already exist (or repeat in the batch) are skipped, as the
//   V2 docs describe (client-api: "only the vectors with new IDs will be inserted"); upsert replaces.
// - Writes are asynchronous on the service. MUTATION_DELAY_MS (a var, default 0) makes each write
//   visible to query/getByIds/describe only that many milliseconds after it returned its mutationId;
//   describe().processedUpToMutation/-Datetime tell how far the index has caught up. Start the
//   stand-in with `--var MUTATION_DELAY_MS:2000` to exercise code that must not read its own writes.
// - Dimensions: the DIMENSIONS var (768 = bge-base-en-v1.5); empty = fixed by the first write.
//
// Storage: one SQLite-backed Durable Object holds the index (vectors as float32 BLOBs, pending
// mutations, state), persisted with the rest of `wrangler dev`'s state, and keeps every vector in
// memory for the cosine scan. Not D1: the local D1 binding returns rows as JSON (a 768-dim BLOB is
// ~12 KB of JSON), so every query would need an in-isolate cache with its own coherence rules; the
// Durable Object is the single writer by construction and reads BLOBs as ArrayBuffers in-process.
//
// Besides RPC, `GET /` answers "vectorize-standin" and `POST /rpc/<method>` takes the method's
// arguments as a JSON array and answers its result as JSON (errors: 400 {"error": message}).

import { DurableObject, WorkerEntrypoint } from "cloudflare:workers";

const INDEX_NAME = "workers-openai-chunks";
const METHODS = ["insert", "upsert", "query", "queryById", "getByIds", "deleteByIds", "describe"];

// developers.cloudflare.com/vectorize/platform/limits
const MAX_ID_BYTES = 64;
const MAX_NAMESPACE_BYTES = 64;
const MAX_METADATA_BYTES = 10 * 1024;
const MAX_DIMENSIONS = 1536;
const MAX_BATCH = 1000; // vectors per insert/upsert and ids per deleteByIds from a Worker
const DEFAULT_TOP_K = 5;
const MAX_TOP_K = 100;
const MAX_TOP_K_WITH_DATA = 20; // with returnValues or returnMetadata "all" (the documented limit)
const INDEXED_STRING_BYTES = 64;
const MAX_FILTER_BYTES = 2048;
const MAX_FILTER_KEY_CHARS = 512;
const METADATA_LEVELS = ["all", "indexed", "none"];
const COMPARISONS = ["$eq", "$ne", "$lt", "$lte", "$gt", "$gte"];
const COLLECTIONS = ["$in", "$nin"];

const encoder = new TextEncoder();
const utf8Length = (s) => encoder.encode(s).length;
const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const isScalar = (v) => ["string", "number", "boolean"].includes(typeof v);

function vectorizeError(operation, code, message) {
  return new Error(`VECTOR_${operation}_ERROR (code = ${code}): ${message}`);
}

// The longest prefix of s within `bytes` UTF-8 bytes, cut on a character boundary.
function truncateUtf8(s, bytes) {
  if (utf8Length(s) <= bytes) return s;
  let out = "", used = 0;
  for (const ch of s) {
    used += utf8Length(ch);
    if (used > bytes) break;
    out += ch;
  }
  return out;
}

function lookup(metadata, path) {
  let value = metadata;
  for (const part of path.split(".")) {
    if (!isObject(value) || !(part in value)) return undefined;
    value = value[part];
  }
  return value;
}

function norm(values) {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] * values[i];
  return Math.sqrt(sum);
}

function parseIndexes(spec) {
  const text = (spec ?? "").trim();
  if (text === "*") return null; // everything is indexed
  const indexes = new Map();
  for (const entry of text.split(",").map((e) => e.trim()).filter(Boolean)) {
    const [name, type] = entry.split(":").map((p) => p.trim());
    indexes.set(name, type || null);
  }
  return indexes;
}

// --- The index ---------------------------------------------------------------------------------

export class VectorIndex extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.indexes = parseIndexes(env.METADATA_INDEXES);
    this.warned = new Set();
    ctx.blockConcurrencyWhile(async () => this.load());
  }

  load() {
    this.sql.exec(`CREATE TABLE IF NOT EXISTS vectors (
      id TEXT PRIMARY KEY, namespace TEXT, vals BLOB NOT NULL, metadata TEXT)`);
    this.sql.exec(`CREATE TABLE IF NOT EXISTS pending (
      seq INTEGER PRIMARY KEY AUTOINCREMENT, mutation_id TEXT NOT NULL, kind TEXT NOT NULL,
      visible_at REAL NOT NULL, payload TEXT NOT NULL)`);
    this.sql.exec("CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT)");
    this.rows = new Map();
    for (const r of this.sql.exec("SELECT id, namespace, vals, metadata FROM vectors")) {
      const values = new Float32Array(r.vals);
      this.rows.set(r.id, { id: r.id, namespace: r.namespace, values, norm: norm(values),
                            metadata: r.metadata === null ? undefined : JSON.parse(r.metadata) });
    }
  }

  getState(key) {
    const rows = this.sql.exec("SELECT value FROM state WHERE key = ?", key).toArray();
    return rows.length ? rows[0].value : null;
  }

  setState(key, value) {
    this.sql.exec("INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)", key, value);
  }

  dimensions() {
    const configured = String(this.env.DIMENSIONS ?? "").trim();
    if (configured) return Number(configured);
    const fixed = this.getState("dimensions");
    return fixed === null ? null : Number(fixed);
  }

  // --- Writes: validated now, applied now or after MUTATION_DELAY_MS --------------------------

  insert(vectors) {
    return this.write("insert", this.checkVectors("INSERT", vectors));
  }

  upsert(vectors) {
    return this.write("upsert", this.checkVectors("UPSERT", vectors));
  }

  deleteByIds(ids) {
    this.checkIds("DELETE", ids);
    return this.write("delete", ids);
  }

  checkVectors(operation, vectors) {
    if (!Array.isArray(vectors)) throw vectorizeError(operation, 40026, "vectors must be an array");
    if (vectors.length > MAX_BATCH) {
      throw vectorizeError(operation, 40026,
                           `too many vectors; max is ${MAX_BATCH} per request, got ${vectors.length}`);
    }
    let dims = this.dimensions();
    return vectors.map((vector) => {
      if (!isObject(vector)) throw vectorizeError(operation, 40026, "each vector must be an object");
      const { id, values, namespace, metadata } = vector;
      if (typeof id !== "string" || id === "") {
        throw vectorizeError(operation, 40026, "vector id must be a non-empty string");
      }
      const idBytes = utf8Length(id);
      if (idBytes > MAX_ID_BYTES) {
        throw vectorizeError(operation, 40008, `id too long; max is ${MAX_ID_BYTES} bytes, got ${idBytes} bytes`);
      }
      if (!Array.isArray(values) && !(values instanceof Float32Array || values instanceof Float64Array)) {
        throw vectorizeError(operation, 40026, `invalid vector for id="${id}", values must be an array of numbers`);
      }
      if (dims === null) {
        if (values.length < 1 || values.length > MAX_DIMENSIONS) {
          throw vectorizeError(operation, 40012, `invalid vector for id="${id}", dimensions must be 1 to ${MAX_DIMENSIONS}, got ${values.length}`);
        }
        dims = values.length;
        this.setState("dimensions", String(dims));
      }
      if (values.length !== dims) {
        throw vectorizeError(operation, 40012,
                             `invalid vector for id="${id}", expected ${dims} dimensions, and got ${values.length} dimensions`);
      }
      for (const v of values) {
        if (typeof v !== "number" || !Number.isFinite(v)) {
          throw vectorizeError(operation, 40012, `invalid vector for id="${id}", values must be finite numbers`);
        }
      }
      if (namespace !== undefined && namespace !== null) {
        if (typeof namespace !== "string" || namespace === "") {
          throw vectorizeError(operation, 40026, `invalid namespace for id="${id}"`);
        }
        const nsBytes = utf8Length(namespace);
        if (nsBytes > MAX_NAMESPACE_BYTES) {
          throw vectorizeError(operation, 40026,
                               `namespace too long; max is ${MAX_NAMESPACE_BYTES} bytes, got ${nsBytes} bytes`);
        }
      }
      if (metadata !== undefined && metadata !== null) {
        if (!isObject(metadata) || !validMetadata(metadata, 0)) {
          throw vectorizeError(operation, 40026,
                               `invalid metadata for id="${id}": values must be strings, numbers, booleans or lists of strings`);
        }
        const metaBytes = utf8Length(JSON.stringify(metadata));
        if (metaBytes > MAX_METADATA_BYTES) {
          throw vectorizeError(operation, 40026,
                               `metadata too large for id="${id}"; max is ${MAX_METADATA_BYTES} bytes, got ${metaBytes} bytes`);
        }
      }
      return { id, values: Array.from(values), namespace: namespace ?? null, metadata: metadata ?? null };
    });
  }

  checkIds(operation, ids) {
    if (!Array.isArray(ids) || !ids.every((id) => typeof id === "string")) {
      throw vectorizeError(operation, 40026, "ids must be an array of strings");
    }
    if (ids.length > MAX_BATCH) {
      throw vectorizeError(operation, 40026, `too many ids; max is ${MAX_BATCH} per request, got ${ids.length}`);
    }
  }

  write(kind, payload) {
    const mutationId = crypto.randomUUID();
    const delay = Number(this.env.MUTATION_DELAY_MS || 0);
    if (delay > 0) {
      this.sql.exec("INSERT INTO pending (mutation_id, kind, visible_at, payload) VALUES (?, ?, ?, ?)",
                    mutationId, kind, Date.now() + delay, JSON.stringify(payload));
    } else {
      this.catchUp(Infinity);
      this.apply(mutationId, kind, payload);
    }
    return { mutationId };
  }

  // Apply the pending mutations that have become visible, in order.
  catchUp(now = Date.now()) {
    const due = this.sql.exec(
      "SELECT seq, mutation_id, kind, payload FROM pending WHERE visible_at <= ? ORDER BY seq",
      now === Infinity ? Number.MAX_VALUE : now).toArray();
    for (const m of due) {
      this.apply(m.mutation_id, m.kind, JSON.parse(m.payload));
      this.sql.exec("DELETE FROM pending WHERE seq = ?", m.seq);
    }
  }

  apply(mutationId, kind, payload) {
    const changes = [];
    this.ctx.storage.transactionSync(() => {
      if (kind === "delete") {
        for (const id of payload) {
          this.sql.exec("DELETE FROM vectors WHERE id = ?", id);
          changes.push([id, null]);
        }
      } else {
        const seen = new Set();
        for (const v of payload) {
          // insert keeps what exists and the first of repeated ids; upsert replaces in full.
          if (kind === "insert" && (this.rows.has(v.id) || seen.has(v.id))) continue;
          seen.add(v.id);
          const values = Float32Array.from(v.values);
          this.sql.exec("INSERT OR REPLACE INTO vectors (id, namespace, vals, metadata) VALUES (?, ?, ?, ?)",
                        v.id, v.namespace, values.buffer,
                        v.metadata === null ? null : JSON.stringify(v.metadata));
          changes.push([v.id, { id: v.id, namespace: v.namespace, values, norm: norm(values),
                                metadata: v.metadata ?? undefined }]);
        }
      }
      this.setState("processed_mutation", mutationId);
      this.setState("processed_at", new Date().toISOString());
    });
    for (const [id, row] of changes) {
      if (row === null) this.rows.delete(id);
      else this.rows.set(id, row);
    }
  }

  // --- Reads ------------------------------------------------------------------------------------

  query(vector, options) {
    const values = Array.isArray(vector) ? vector
      : (vector instanceof Float32Array || vector instanceof Float64Array) ? Array.from(vector) : null;
    const dims = this.dimensions();
    if (values === null || (dims !== null && values.length !== dims)) {
      throw vectorizeError("QUERY", 40006, `invalid query vector, expected ${dims} dimensions, and got ${values?.length ?? 0} dimensions`);
    }
    if (!values.every((v) => typeof v === "number" && Number.isFinite(v))) {
      throw vectorizeError("QUERY", 40006, "invalid query vector, values must be finite numbers");
    }
    return this.search(Float32Array.from(values), options);
  }

  queryById(vectorId, options) {
    if (typeof vectorId !== "string") throw vectorizeError("QUERY", 40026, "vectorId must be a string");
    const plan = this.plan(options);
    this.catchUp();
    const row = this.rows.get(vectorId);
    return row ? this.scan(row.values, plan) : { matches: [], count: 0 };
  }

  search(values, options) {
    const plan = this.plan(options);
    this.catchUp();
    return this.scan(values, plan);
  }

  // Options checked as the binding (returnMetadata) and the service (the rest) check them.
  plan(options) {
    const opts = options ?? {};
    if (!isObject(opts)) throw vectorizeError("QUERY", 40026, "options must be an object");
    let level = opts.returnMetadata;
    if (level && typeof level !== "boolean" && !METADATA_LEVELS.includes(level)) {
      throw new Error(`Invalid returnMetadata option. Expected: true, false, "none", "indexed" or "all"; got: ${level}`);
    }
    level = level === true ? "all" : (level || "none");
    const returnValues = Boolean(opts.returnValues);
    const topK = opts.topK ?? DEFAULT_TOP_K;
    if (!Number.isInteger(topK) || topK < 1) {
      throw vectorizeError("QUERY", 40026, `topK must be a positive integer, got ${topK}`);
    }
    if ((returnValues || level === "all") && topK > MAX_TOP_K_WITH_DATA) {
      throw vectorizeError("QUERY", 40025,
                           `with returnValues=true or returnMetadata=all, max top K is ${MAX_TOP_K_WITH_DATA}, but got ${topK}`);
    }
    if (topK > MAX_TOP_K) throw vectorizeError("QUERY", 40025, `max top K is ${MAX_TOP_K}, but got ${topK}`);
    const namespace = opts.namespace ?? null;
    if (namespace !== null && typeof namespace !== "string") {
      throw vectorizeError("QUERY", 40026, "namespace must be a string");
    }
    const filter = opts.filter === undefined || opts.filter === null ? null : this.compileFilter(opts.filter);
    return { topK, level, returnValues, namespace, filter };
  }

  scan(query, { topK, level, returnValues, namespace, filter }) {
    const queryNorm = norm(query);
    const dims = query.length;
    const scored = [];
    for (const row of this.rows.values()) {
      if (namespace !== null && row.namespace !== namespace) continue;
      if (filter && !filter(row)) continue;
      const v = row.values;
      let dot = 0;
      for (let i = 0; i < dims; i++) dot += query[i] * v[i];
      const denominator = queryNorm * row.norm;
      scored.push([denominator === 0 ? 0 : dot / denominator, row]);
    }
    scored.sort((a, b) => b[0] - a[0] || (a[1].id < b[1].id ? -1 : 1));
    const matches = scored.slice(0, topK).map(([score, row]) => {
      const match = { id: row.id, score };
      if (returnValues) match.values = Array.from(row.values);
      if (level !== "none" && row.metadata !== undefined) {
        match.metadata = level === "all" ? row.metadata : this.indexedMetadata(row.metadata);
      }
      if (row.namespace !== null) match.namespace = row.namespace;
      return match;
    });
    return { matches, count: matches.length };
  }

  getByIds(ids) {
    this.checkIds("GET", ids);
    this.catchUp();
    return ids.filter((id) => this.rows.has(id)).map((id) => {
      const row = this.rows.get(id);
      const vector = { id, values: Array.from(row.values) };
      if (row.namespace !== null) vector.namespace = row.namespace;
      if (row.metadata !== undefined) vector.metadata = row.metadata;
      return vector;
    });
  }

  describe() {
    this.catchUp();
    return {
      vectorCount: this.rows.size,
      dimensions: this.dimensions(),
      processedUpToDatetime: this.getState("processed_at"),
      processedUpToMutation: this.getState("processed_mutation"),
    };
  }

  // --- Metadata indexes and filters --------------------------------------------------------------

  // The value a metadata index holds for property `path` of a vector, or undefined.
  indexedValue(metadata, path) {
    if (metadata === undefined) return undefined;
    const type = this.indexes === null ? undefined : this.indexes.get(path);
    if (this.indexes !== null && type === undefined) return undefined;
    const value = lookup(metadata, path);
    if (!isScalar(value) || (type && typeof value !== type)) return undefined;
    return typeof value === "string" ? truncateUtf8(value, INDEXED_STRING_BYTES) : value;
  }

  indexedMetadata(metadata) {
    const out = {};
    const paths = this.indexes === null ? Object.keys(metadata) : [...this.indexes.keys()];
    for (const path of paths) {
      const value = this.indexedValue(metadata, path);
      if (value !== undefined) out[path] = value;
    }
    return out;
  }

  compileFilter(filter) {
    const bad = (message) => vectorizeError("QUERY", 40026, `invalid filter: ${message}`);
    if (!isObject(filter) || Object.keys(filter).length === 0) throw bad("must be a non-empty object");
    const size = utf8Length(JSON.stringify(filter));
    if (size >= MAX_FILTER_BYTES) throw bad(`must be less than ${MAX_FILTER_BYTES} bytes, got ${size}`);
    const tests = [];
    for (const [key, condition] of Object.entries(filter)) {
      if (key === "" || key.startsWith("$") || /["|]/.test(key) || key.length > MAX_FILTER_KEY_CHARS) {
        throw bad(`invalid key ${JSON.stringify(key)}`);
      }
      if (this.indexes !== null && !this.indexes.has(key) && !this.warned.has(key)) {
        this.warned.add(key);
        console.warn(`vectorize-standin: filter on "${key}", which has no metadata index: ` +
                     "it matches as if no vector had it (as on Vectorize). See METADATA_INDEXES.");
      }
      const ops = isObject(condition) ? Object.entries(condition) : [["$eq", condition]];
      if (ops.length === 0) throw bad(`no operator for ${JSON.stringify(key)}`);
      for (const [op, operand] of ops) {
        if (COMPARISONS.includes(op)) {
          if (operand !== null && !isScalar(operand)) throw bad(`${op} on "${key}" takes a string, number, boolean or null`);
        } else if (COLLECTIONS.includes(op)) {
          if (!Array.isArray(operand) || operand.length === 0 || !operand.every(isScalar)) {
            throw bad(`${op} on "${key}" takes a non-empty list of strings, numbers or booleans`);
          }
        } else {
          throw bad(`unsupported operator ${JSON.stringify(op)}`);
        }
        tests.push([key, op, operand]);
      }
    }
    return (row) => tests.every(([key, op, operand]) =>
      matches(this.indexedValue(row.metadata, key), op, operand));
  }
}

function validMetadata(value, depth) {
  return Object.values(value).every((v) =>
    isScalar(v) || (Array.isArray(v) && v.every((s) => typeof s === "string"))
    || (depth === 0 && isObject(v) && validMetadata(v, 1)));
}

// One operator against an indexed value (undefined: the vector has no such indexed property).
function matches(value, op, operand) {
  const equal = (x) => value !== undefined && typeof value === typeof x && value === x;
  switch (op) {
    case "$eq": return operand === null ? value === undefined : equal(operand);
    case "$ne": return operand === null ? value !== undefined : !equal(operand);
    case "$in": return operand.some(equal);
    case "$nin": return !operand.some(equal);
  }
  if (value === undefined || operand === null || typeof value !== typeof operand || typeof value === "boolean") {
    return false;
  }
  switch (op) {
    case "$lt": return value < operand;
    case "$lte": return value <= operand;
    case "$gt": return value > operand;
    case "$gte": return value >= operand;
  }
  return false;
}

// --- The binding ---------------------------------------------------------------------------------

const indexOf = (env) => env.INDEX.get(env.INDEX.idFromName(INDEX_NAME));

export default class extends WorkerEntrypoint {
  insert(vectors) { return indexOf(this.env).insert(vectors); }
  upsert(vectors) { return indexOf(this.env).upsert(vectors); }
  query(vector, options) { return indexOf(this.env).query(vector, options); }
  queryById(vectorId, options) { return indexOf(this.env).queryById(vectorId, options); }
  getByIds(ids) { return indexOf(this.env).getByIds(ids); }
  deleteByIds(ids) { return indexOf(this.env).deleteByIds(ids); }
  describe() { return indexOf(this.env).describe(); }

  async fetch(request) {
    const { pathname } = new URL(request.url);
    if (request.method === "GET" && pathname === "/") return new Response("vectorize-standin");
    const method = pathname.startsWith("/rpc/") ? pathname.slice("/rpc/".length) : null;
    if (request.method !== "POST" || !METHODS.includes(method)) return new Response("Not found", { status: 404 });
    let args;
    try {
      args = await request.json();
    } catch {
      return Response.json({ error: "request body must be a JSON array of arguments" }, { status: 400 });
    }
    if (!Array.isArray(args)) {
      return Response.json({ error: "request body must be a JSON array of arguments" }, { status: 400 });
    }
    try {
      return Response.json(await this[method](...args));
    } catch (error) {
      return Response.json({ error: String(error?.message ?? error) }, { status: 400 });
    }
  }
}

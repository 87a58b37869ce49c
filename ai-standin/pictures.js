// Deterministic pictures for the image stand-ins, encoded as real files clients can decode and
// measure: a colour gradient (red across, green down) under a 32-pixel checkerboard on the blue
// channel, whose base blue comes from a seed (the prompt's hash), so different prompts look
// different and the same prompt always gives the same bytes.
//   png(width, height, seed)   8-bit RGB PNG; IDAT is zlib ("deflate" in CompressionStream)
//   jpeg(width, height, seed)  baseline JPEG, YCbCr without subsampling; every 8×8 block is flat
//                              (DC coefficients only), coded with the standard DC Huffman table

const CHECKER = 32; // side of a checkerboard square, a multiple of the JPEG block

export function pixel(x, y, width, height, seed) {
  const red = Math.round((255 * x) / Math.max(1, width - 1));
  const green = Math.round((255 * y) / Math.max(1, height - 1));
  const dark = (Math.floor(x / CHECKER) + Math.floor(y / CHECKER)) % 2 === 1;
  return [red, green, dark ? (seed & 0x7f) : 128 + (seed & 0x7f)];
}

// --- PNG -----------------------------------------------------------------------------------------
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type, data) {
  const chunk = new Uint8Array(12 + data.length);
  const view = new DataView(chunk.buffer);
  view.setUint32(0, data.length);
  chunk.set(new TextEncoder().encode(type), 4);
  chunk.set(data, 8);
  view.setUint32(8 + data.length, crc32(chunk.subarray(4, 8 + data.length)));
  return chunk;
}

export async function png(width, height, seed) {
  const stride = 1 + 3 * width; // filter type 0, then the pixels
  const raw = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) raw.set(pixel(x, y, width, height, seed), y * stride + 1 + 3 * x);
  }
  const zlib = new Uint8Array(await new Response(new Blob([raw]).stream()
    .pipeThrough(new CompressionStream("deflate"))).arrayBuffer());
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
  const parts = [Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", header), pngChunk("IDAT", zlib), pngChunk("IEND", new Uint8Array(0))];
  return new Uint8Array(await new Blob(parts).arrayBuffer());
}

// --- JPEG ----------------------------------------------------------------------------------------
// ITU T.81 Annex K.3: the luminance DC table (code counts per length 1..16, then the categories).
const DC_BITS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_VALUES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
// Every block's AC coefficients are zero: the AC table holds one symbol, end-of-block, code "0".
const AC_BITS = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
const EOB = [0, 1]; // (code, length)
// With every quantizer 8, a flat block of level v has the quantized DC v - 128 (F(0,0) = 8·mean).
const QUANTIZER = 8;

// Canonical Huffman codes: category → [code, length].
const DC_CODES = (() => {
  const codes = [];
  let code = 0;
  let k = 0;
  DC_BITS.forEach((count, i) => {
    for (let j = 0; j < count; j++) codes[DC_VALUES[k++]] = [code++, i + 1];
    code <<= 1;
  });
  return codes;
})();

class BitWriter {
  constructor() {
    this.bytes = [];
    this.current = 0;
    this.filled = 0;
  }

  write(value, length) {
    for (let i = length - 1; i >= 0; i--) {
      this.current = (this.current << 1) | ((value >> i) & 1);
      if (++this.filled === 8) this.flushByte();
    }
  }

  flushByte() {
    this.bytes.push(this.current);
    if (this.current === 0xff) this.bytes.push(0x00); // byte stuffing
    this.current = 0;
    this.filled = 0;
  }

  end() {
    if (this.filled > 0) this.write(0xff, 8 - this.filled); // pad with 1-bits
    return this.bytes;
  }
}

const clamp = (v) => Math.max(0, Math.min(255, Math.round(v)));

function ycbcr([r, g, b]) {
  return [clamp(0.299 * r + 0.587 * g + 0.114 * b),
    clamp(128 - 0.168736 * r - 0.331264 * g + 0.5 * b),
    clamp(128 + 0.5 * r - 0.418688 * g - 0.081312 * b)];
}

function writeDc(bits, diff) {
  const magnitude = Math.abs(diff);
  const category = magnitude === 0 ? 0 : 32 - Math.clz32(magnitude);
  const [code, length] = DC_CODES[category];
  bits.write(code, length);
  if (category > 0) bits.write(diff >= 0 ? diff : diff + (1 << category) - 1, category);
  bits.write(...EOB);
}

const segment = (marker, body) => [0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body];

export function jpeg(width, height, seed) {
  const bits = new BitWriter();
  const predictors = [0, 0, 0];
  for (let by = 0; by < Math.ceil(height / 8); by++) {
    for (let bx = 0; bx < Math.ceil(width / 8); bx++) {
      const x = Math.min(width - 1, bx * 8 + 4);
      const y = Math.min(height - 1, by * 8 + 4);
      ycbcr(pixel(x, y, width, height, seed)).forEach((level, c) => {
        writeDc(bits, level - 128 - predictors[c]);
        predictors[c] = level - 128;
      });
    }
  }
  const components = [1, 2, 3].flatMap((id) => [id, 0x11, 0]); // 1×1 sampling, quantizer table 0
  return Uint8Array.from([
    0xff, 0xd8,
    ...segment(0xe0, [0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]), // JFIF 1.1
    ...segment(0xdb, [0, ...new Array(64).fill(QUANTIZER)]),
    ...segment(0xc0, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 3, ...components]),
    ...segment(0xc4, [0x00, ...DC_BITS, ...DC_VALUES, 0x10, ...AC_BITS, 0x00]),
    ...segment(0xda, [3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 63, 0]),
    ...bits.end(),
    0xff, 0xd9,
  ]);
}

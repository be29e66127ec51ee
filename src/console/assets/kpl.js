// KPL de-aggregation: an aggregated record is the magic F3 89 9A C2, a protobuf
// AggregatedRecord, and the MD5 of that protobuf. A record that does not match all three is
// an ordinary record. A hand-written MD5 (RFC 1321) and protobuf reader: no dependency.

const MAGIC = [0xf3, 0x89, 0x9a, 0xc2];

const S = [7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
  5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
  4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
  6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21];
const K = Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) >>> 0);

/** The MD5 digest of `bytes` (a Uint8Array), 16 bytes. */
export function md5(bytes) {
  const length = bytes.length;
  const padded = new Uint8Array(((length + 8) >> 6) * 64 + 64);
  padded.set(bytes);
  padded[length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, (length * 8) >>> 0, true);
  view.setUint32(padded.length - 4, Math.floor(length / 0x20000000), true);
  let a0 = 0x67452301, b0 = 0xefcdab89, c0 = 0x98badcfe, d0 = 0x10325476;
  const m = new Uint32Array(16);
  for (let off = 0; off < padded.length; off += 64) {
    for (let i = 0; i < 16; i++) m[i] = view.getUint32(off + i * 4, true);
    let a = a0, b = b0, c = c0, d = d0;
    for (let i = 0; i < 64; i++) {
      let f, g;
      if (i < 16) { f = (b & c) | (~b & d); g = i; }
      else if (i < 32) { f = (d & b) | (~d & c); g = (5 * i + 1) % 16; }
      else if (i < 48) { f = b ^ c ^ d; g = (3 * i + 5) % 16; }
      else { f = c ^ (b | ~d); g = (7 * i) % 16; }
      const sum = (a + f + K[i] + m[g]) >>> 0;
      a = d; d = c; c = b;
      b = (b + ((sum << S[i]) | (sum >>> (32 - S[i])))) >>> 0;
    }
    a0 = (a0 + a) >>> 0; b0 = (b0 + b) >>> 0; c0 = (c0 + c) >>> 0; d0 = (d0 + d) >>> 0;
  }
  const out = new Uint8Array(16);
  const outView = new DataView(out.buffer);
  [a0, b0, c0, d0].forEach((word, i) => outView.setUint32(i * 4, word, true));
  return out;
}

/** Reads protobuf fields: yields `[field, wireType, value]` (a number for varints, bytes otherwise). */
function* fields(bytes) {
  let pos = 0;
  const varint = () => {
    let value = 0, scale = 1, byte;
    do {
      if (pos >= bytes.length) throw new Error('truncated varint');
      byte = bytes[pos++];
      value += (byte & 0x7f) * scale;
      scale *= 128;
    } while (byte & 0x80);
    return value;
  };
  while (pos < bytes.length) {
    const key = varint();
    const field = Math.floor(key / 8), wire = key % 8;
    if (wire === 0) yield [field, wire, varint()];
    else if (wire === 2) {
      const length = varint();
      if (pos + length > bytes.length) throw new Error('truncated field');
      yield [field, wire, bytes.subarray(pos, pos + length)];
      pos += length;
    } else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else throw new Error(`wire type ${wire}`);
  }
}

const text = new TextDecoder();

/**
 * The user records of a KPL-aggregated record, `[{partitionKey, explicitHashKey, data}]`, or
 * `null` when `bytes` is not one (no magic, a wrong MD5, or a protobuf that does not parse).
 */
export function deaggregate(bytes) {
  if (bytes.length < MAGIC.length + 16 || MAGIC.some((b, i) => bytes[i] !== b)) return null;
  const body = bytes.subarray(4, bytes.length - 16);
  const digest = md5(body);
  const trailer = bytes.subarray(bytes.length - 16);
  if (digest.some((b, i) => b !== trailer[i])) return null;
  try {
    // The tables may follow the records on the wire: read them first, the records after.
    const keys = [], hashKeys = [];
    let count = 0;
    for (const [field, wire, value] of fields(body)) {
      if (field === 1 && wire === 2) keys.push(text.decode(value));
      else if (field === 2 && wire === 2) hashKeys.push(text.decode(value));
      else if (field === 3 && wire === 2) count++;
    }
    return count ? records(body, keys, hashKeys) : null;
  } catch {
    return null;
  }
}

/** The AggregatedRecord's records, their key indexes resolved against the tables. */
function records(body, keys, hashKeys) {
  const out = [];
  for (const [field, wire, value] of fields(body)) {
    if (field !== 3 || wire !== 2) continue;
    const record = { partitionKey: '', explicitHashKey: undefined, data: new Uint8Array() };
    for (const [f, w, v] of fields(value)) {
      if (f === 1 && w === 0) record.partitionKey = keys[v] ?? `(key #${v})`;
      else if (f === 2 && w === 0) record.explicitHashKey = hashKeys[v];
      else if (f === 3 && w === 2) record.data = v;
    }
    out.push(record);
  }
  return out;
}

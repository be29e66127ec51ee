// kinesd's own Kinesis API, called as any client calls it (a dummy signature: kinesd takes any
// well-formed one unless --verify-signatures), and the console's read-only traffic document.

const AUTH = 'AWS4-HMAC-SHA256 Credential=console/20000101/us-east-1/kinesis/aws4_request, ' +
  'SignedHeaders=host;x-amz-date, Signature=0000';

/** Calls operation `op` with `body`; resolves to the answer, or throws an Error naming AWS's exception. */
export async function kinesis(op, body = {}) {
  const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const resp = await fetch('/', {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.1',
      'X-Amz-Target': `Kinesis_20131202.${op}`,
      'X-Amz-Date': amzDate,
      'Authorization': AUTH,
    },
    body: JSON.stringify(body),
    cache: 'no-store',
  });
  const text = await resp.text();
  const answer = text ? JSON.parse(text) : {};
  if (!resp.ok) {
    const type = String(answer.__type || resp.status).split('#').pop();
    const error = new Error(`${type}: ${answer.message || answer.Message || ''}`);
    error.type = type;
    throw error;
  }
  return answer;
}

/** Every page of a paged list operation, concatenated (`keepBody`: send the body with each NextToken). */
export async function all(op, body, field, keepBody = false) {
  let items = [];
  let next;
  do {
    const answer = await kinesis(op, next ? { ...(keepBody ? body : {}), NextToken: next } : body);
    items = items.concat(answer[field] || []);
    next = answer.NextToken;
  } while (next);
  return items;
}

export function listShards(stream) {
  return all('ListShards', { StreamName: stream }, 'Shards');
}

/** The console's traffic document (see src/console/traffic.rs); with `stream`, its samples too. */
export async function traffic(stream) {
  const query = stream ? `?stream=${encodeURIComponent(stream)}` : '';
  const resp = await fetch(`/console/api/traffic${query}`, { cache: 'no-store' });
  if (!resp.ok) throw new Error(`traffic: ${resp.status}`);
  return resp.json();
}

/** The records and bytes a shard stores now (a full scan in kinesd: asked for on demand). */
export async function shardStats(stream, shard) {
  const resp = await fetch(`/console/api/shard?stream=${encodeURIComponent(stream)}&shard=${encodeURIComponent(shard)}`, { cache: 'no-store' });
  if (!resp.ok) throw new Error(`shard: ${resp.status}`);
  return resp.json();
}

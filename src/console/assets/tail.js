// The live tail: GetRecords on every shard of the stream, from LATEST, TRIM_HORIZON or a
// timestamp, following a closed shard's children after a reshard. KPL-aggregated records are
// shown as their user records. Reading uses fresh shard iterators only: no lease, checkpoint
// or consumer is touched, so consumers never notice (with --enforce-limits each poll does count
// against the shard's 5 GetRecords calls a second, like any reader's).

import { el, replace, bytes, shortShard, section, labelled } from './dom.js';
import { kinesis, listShards } from './api.js';
import { deaggregate } from './kpl.js';
import { putForm } from './put.js';

const POLL_MS = 500;
const KEEP = 1000;
const HEADERS = ['Arrived', 'Shard', 'Sequence number', 'Partition key', 'Size', 'Data'];
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeBase64(text) {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

function hex(data, limit = 1024) {
  const shown = Array.from(data.subarray(0, limit), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return data.length > limit ? `${shown} …` : shown;
}

function clip(text, limit = 4000) {
  return text.length > limit ? `${text.slice(0, limit)} …` : text;
}

/** The data as the chosen view shows it: a text node's content, in a <pre> for JSON and hex. */
function showData(data, view) {
  let text;
  try { text = utf8.decode(data); } catch { text = undefined; }
  if (view === 'hex' || text === undefined) {
    return el('pre', { class: 'data hex' }, text === undefined && view !== 'hex' ? `binary: ${hex(data)}` : hex(data));
  }
  if (view === 'json') {
    try { return el('pre', { class: 'data json' }, clip(JSON.stringify(JSON.parse(text), null, 2))); } catch { /* not JSON */ }
  }
  return el('span', { class: 'data text' }, clip(text));
}

function time(seconds) {
  const d = new Date(seconds * 1000);
  return `${d.toLocaleTimeString([], { hour12: false })}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** One record as rows: itself, or its user records when it is KPL-aggregated. */
function unpack(shard, record) {
  const data = decodeBase64(record.Data);
  const base = { shard, sequence: record.SequenceNumber, arrival: record.ApproximateArrivalTimestamp };
  const users = deaggregate(data);
  if (!users) return [{ ...base, key: record.PartitionKey, data, size: data.length }];
  return users.map((u, i) => ({
    ...base, key: u.partitionKey, data: u.data, size: u.data.length,
    sub: i, of: users.length, aggregateSize: data.length,
  }));
}

export function tailPage(main, stream) {
  const records = [];
  const started = new Set();
  let generation = 0;
  let paused = false;
  let reading = 0;

  const position = el('select', { id: 'tail-from' },
    el('option', { value: 'LATEST' }, 'Latest (new records)'),
    el('option', { value: 'TRIM_HORIZON' }, 'Trim horizon (oldest kept)'),
    el('option', { value: 'AT_TIMESTAMP' }, 'At a time'));
  const when = el('input', { id: 'tail-when', type: 'datetime-local', step: 1, disabled: true });
  const filter = el('input', { id: 'tail-filter', type: 'search', autocomplete: 'off', placeholder: 'contains…' });
  const view = el('select', { id: 'tail-view' },
    el('option', { value: 'text' }, 'Text'), el('option', { value: 'json' }, 'JSON (pretty)'), el('option', { value: 'hex' }, 'Hex'));
  const pause = el('button', { type: 'button', id: 'tail-pause', 'aria-pressed': 'false' }, 'Pause');
  const status = el('p', { role: 'status', class: 'status', id: 'tail-status' });
  const rows = el('tbody', { id: 'tail-rows' });

  function row(r) {
    const sequence = r.sub === undefined ? el('code', { class: 'seq' }, r.sequence)
      : el('span', {}, el('code', { class: 'seq' }, r.sequence), ' ',
        el('span', { class: 'badge kpl', title: `one of ${r.of} user records in a ${r.aggregateSize}-byte KPL aggregate` }, `KPL ${r.sub + 1}/${r.of}`),
        el('span', { class: 'sub' }, ` sub-sequence ${r.sub}`));
    return labelled(el('tr', { class: r.sub === undefined ? 'record' : 'record user-record' },
      el('td', {}, time(r.arrival)),
      el('td', {}, el('abbr', { title: r.shard }, shortShard(r.shard))),
      el('td', {}, sequence),
      el('td', { class: 'pk' }, r.key),
      el('td', { class: 'num' }, bytes(r.size)),
      el('td', { class: 'payload' }, showData(r.data, view.value))), HEADERS);
  }

  const matches = (r) => !filter.value || String(r.key).includes(filter.value);

  function render() {
    const shown = records.filter(matches);
    replace(rows, shown.length ? shown.slice().reverse().map(row) : el('tr', {}, el('td', { colspan: 6, class: 'empty' }, 'No records yet.')));
    say();
  }

  function say() {
    const shown = records.filter(matches).length;
    replace(status, `${paused ? 'Paused' : 'Reading'} ${reading} shard${reading === 1 ? '' : 's'} · ${shown} of ${records.length} records shown`);
  }

  function add(newRows) {
    if (!newRows.length) return;
    const empty = records.length === 0 || !rows.querySelector('tr.record');
    records.push(...newRows);
    const dropped = Math.max(0, records.length - KEEP);
    records.splice(0, dropped);
    if (empty || dropped) { render(); return; }
    for (const r of newRows.filter(matches)) rows.prepend(row(r));
    say();
  }

  async function iterator(shard, type, extra = {}) {
    const answer = await kinesis('GetShardIterator', { StreamName: stream, ShardId: shard, ShardIteratorType: type, ...extra });
    return answer.ShardIterator;
  }

  /** Reads the children of a drained closed shard: from their start, or from the same time. */
  async function follow(gen, shard, type, extra) {
    const shards = await listShards(stream);
    const [childType, childExtra] = type === 'AT_TIMESTAMP' ? [type, extra] : ['TRIM_HORIZON', {}];
    for (const child of shards) {
      if ((child.ParentShardId === shard || child.AdjacentParentShardId === shard) && !started.has(child.ShardId)) {
        read(gen, child.ShardId, childType, childExtra);
      }
    }
  }

  async function read(gen, shard, type, extra) {
    started.add(shard);
    reading++;
    say();
    let last;
    try {
      let it = await iterator(shard, type, extra);
      while (gen === generation) {
        if (paused) { await sleep(200); continue; }
        let answer;
        try {
          answer = await kinesis('GetRecords', { ShardIterator: it, Limit: 1000 });
        } catch (e) {
          if (gen !== generation) return;
          if (e.type === 'ExpiredIteratorException') {
            it = last ? await iterator(shard, 'AFTER_SEQUENCE_NUMBER', { StartingSequenceNumber: last }) : await iterator(shard, 'LATEST');
          } else {
            replace(status, `${shard}: ${e.message}`);
            await sleep(e.type === 'ProvisionedThroughputExceededException' ? 1000 : 2000);
          }
          continue;
        }
        if (gen !== generation) return;
        const got = answer.Records || [];
        if (got.length) {
          last = got[got.length - 1].SequenceNumber;
          add(got.flatMap((r) => unpack(shard, r)));
        }
        if (!answer.NextShardIterator) {
          await follow(gen, shard, type, extra);
          return;
        }
        it = answer.NextShardIterator;
        await sleep(got.length && answer.MillisBehindLatest > 0 ? 0 : POLL_MS);
      }
    } catch (e) {
      if (gen === generation) replace(status, `${shard}: ${e.message}`);
    } finally {
      if (gen === generation) { reading--; say(); }
    }
  }

  async function start() {
    const gen = ++generation;
    started.clear();
    records.length = 0;
    reading = 0;
    render();
    try {
      const shards = await listShards(stream);
      const ids = new Set(shards.map((s) => s.ShardId));
      const type = position.value;
      const open = (s) => !s.SequenceNumberRange.EndingSequenceNumber;
      const root = (s) => !(s.ParentShardId && ids.has(s.ParentShardId)) && !(s.AdjacentParentShardId && ids.has(s.AdjacentParentShardId));
      const extra = {};
      if (type === 'AT_TIMESTAMP') extra.Timestamp = (when.value ? new Date(when.value).getTime() : Date.now()) / 1000;
      for (const s of shards.filter(type === 'LATEST' ? open : root)) read(gen, s.ShardId, type, extra);
    } catch (e) {
      replace(status, e.message);
    }
  }

  position.addEventListener('change', () => { when.disabled = position.value !== 'AT_TIMESTAMP'; });
  filter.addEventListener('input', render);
  view.addEventListener('change', render);
  pause.addEventListener('click', () => {
    paused = !paused;
    pause.setAttribute('aria-pressed', String(paused));
    replace(pause, paused ? 'Resume' : 'Pause');
    say();
  });

  replace(main,
    el('h1', {}, `Live tail: ${stream}`),
    el('form', { class: 'inline controls', 'aria-label': 'Tail settings', onsubmit: (e) => { e.preventDefault(); start(); } },
      el('div', { class: 'fields' },
        el('label', { for: 'tail-from' }, 'Start at', position),
        el('label', { for: 'tail-when' }, 'Time', when),
        el('button', { type: 'submit', id: 'tail-restart' }, 'Restart'),
        pause,
        el('label', { for: 'tail-filter' }, 'Partition key', filter),
        el('label', { for: 'tail-view' }, 'Show data as', view))),
    status,
    section('Records', el('div', { class: 'scroll' }, el('table', { id: 'tail', class: 'tail cards' },
      el('thead', {}, el('tr', {}, HEADERS.map((h) => el('th', { scope: 'col' }, h)))),
      rows))),
    putForm(stream, 'tail-put'));
  start();
  return () => { generation++; };
}

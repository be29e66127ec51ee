// One stream: the hash-key space 0 … 2^128−1 cut into its open shards (BigInt arithmetic: the
// keys do not fit a double), the shard lineage, each shard's sequence range and the records put
// into it, the consumers, the throughput charts and the put form.

import { el, replace, bytes, shortShard, section, labelled } from './dom.js';
import { kinesis, all, listShards, traffic, shardStats } from './api.js';
import { throughputCharts } from './chart.js';
import { putForm } from './put.js';

const REFRESH_MS = 2000;
const SPACE = 1n << 128n;
const SHARD_HEADERS = ['Shard', 'State', 'Hash keys', 'Sequence numbers', 'Records put since start', 'Bytes put since start', 'Stored now', ''];
/** Shard counts asked for on this page: shard id → text shown until the next count. */
const counted = new Map();

export function streamPage(main, name) {
  const status = el('p', { role: 'status', class: 'status' });
  const summary = el('dl', { class: 'summary' });
  const bar = el('div', { class: 'keyspace', id: 'keyspace', role: 'img' });
  const ranges = el('ul', { class: 'ranges', id: 'ranges' });
  const lineage = el('div', { id: 'lineage' });
  const shardRows = el('tbody');
  const consumers = el('div', { id: 'consumers' });
  const charts = throughputCharts();
  let timer;
  let alive = true;

  async function refresh() {
    clearTimeout(timer);
    try {
      const described = await kinesis('DescribeStreamSummary', { StreamName: name });
      const s = described.StreamDescriptionSummary;
      const [shards, counts, registered] = await Promise.all([
        listShards(name),
        traffic(name),
        all('ListStreamConsumers', { StreamARN: s.StreamARN }, 'Consumers', true).catch(() => []),
      ]);
      if (!alive) return;
      const perShard = (counts.streams[name] || {}).shards || {};
      drawSummary(summary, s);
      drawKeyspace(bar, ranges, shards);
      replace(lineage, lineageTree(shards));
      const next = nextOpen(shards);
      replace(shardRows, shards.map((shard) => shardRow(name, shard, perShard[shard.ShardId], next.get(shard.ShardId), refresh)));
      replace(consumers, consumerTable(registered, (counts.streams[name] || {}).subscriptions || []));
      charts.update((counts.streams[name] || {}).samples || []);
      replace(status, '');
    } catch (e) {
      if (alive) replace(status, e.message);
    }
    if (alive) timer = setTimeout(refresh, REFRESH_MS);
  }

  replace(main,
    el('h1', {}, name),
    el('p', { class: 'actions' }, el('a', { class: 'button', href: `#/tail/${encodeURIComponent(name)}` }, 'Live tail')),
    status,
    summary,
    section('Hash-key space', el('p', { class: 'hint' }, 'Open shards over 0 … 2^128−1.'), bar, ranges),
    section('Throughput', charts.node),
    section('Shards', el('div', { class: 'scroll' }, el('table', { id: 'shards', class: 'cards' },
      el('thead', {}, el('tr', {}, SHARD_HEADERS.map((h) => el('th', { scope: 'col' }, h)))),
      shardRows))),
    section('Shard lineage', lineage),
    section('Consumers', consumers),
    putForm(name));
  refresh();
  return () => { alive = false; clearTimeout(timer); };
}

function drawSummary(node, s) {
  const item = (term, value) => [el('dt', {}, term), el('dd', {}, value)];
  const mode = s.StreamModeDetails ? s.StreamModeDetails.StreamMode : 'PROVISIONED';
  replace(node,
    item('Status', s.StreamStatus), item('Mode', mode), item('Open shards', String(s.OpenShardCount)),
    item('Retention', `${s.RetentionPeriodHours} h`), item('Consumers', String(s.ConsumerCount || 0)),
    item('ARN', el('code', {}, s.StreamARN)));
}

/** A shard's share of the key space, in percent (BigInt division first, then to a number). */
function percent(from, to) {
  return Number(((to - from) * 1000000n) / SPACE) / 10000;
}

function drawKeyspace(bar, list, shards) {
  const open = shards.filter((s) => !s.SequenceNumberRange.EndingSequenceNumber)
    .map((s) => ({ id: s.ShardId, start: BigInt(s.HashKeyRange.StartingHashKey), end: BigInt(s.HashKeyRange.EndingHashKey) }))
    .sort((a, b) => (a.start < b.start ? -1 : 1));
  bar.setAttribute('aria-label', `${open.length} open shards across the hash-key space`);
  bar.dataset.shards = String(open.length);
  replace(bar, open.map((s, i) => el('div', {
    class: `cut c${i % 6}`, 'data-shard': s.id,
    style: { left: `${percent(0n, s.start)}%`, width: `${percent(s.start, s.end + 1n)}%` },
    title: `${s.id}: ${s.start} … ${s.end}`,
  }, shortShard(s.id))));
  replace(list, open.map((s, i) => el('li', { 'data-shard': s.id },
    el('span', { class: `swatch c${i % 6}`, 'aria-hidden': 'true' }),
    el('code', {}, s.id), ` ${percent(s.start, s.end + 1n).toFixed(2)} % · `,
    el('span', { class: 'key' }, `${s.start} … ${s.end}`))));
}

function lineageTree(shards) {
  const byId = new Map(shards.map((s) => [s.ShardId, s]));
  const children = new Map();
  for (const s of shards) {
    for (const parent of [s.ParentShardId, s.AdjacentParentShardId]) {
      if (parent && byId.has(parent)) {
        if (!children.has(parent)) children.set(parent, []);
        children.get(parent).push(s);
      }
    }
  }
  const node = (s) => {
    const closed = Boolean(s.SequenceNumberRange.EndingSequenceNumber);
    const merged = s.AdjacentParentShardId ? ` (merged from ${shortShard(s.ParentShardId)} and ${shortShard(s.AdjacentParentShardId)})` : '';
    const kids = children.get(s.ShardId) || [];
    return el('li', { 'data-shard': s.ShardId },
      el('code', {}, s.ShardId), ' ', el('span', { class: `badge ${closed ? 'closed' : 'open'}` }, closed ? 'closed' : 'open'), merged,
      kids.length ? el('ul', {}, kids.map(node)) : null);
  };
  const roots = shards.filter((s) => !(s.ParentShardId && byId.has(s.ParentShardId)));
  return el('ul', { class: 'tree' }, roots.map(node));
}

/** Each open shard's neighbour above it in the key space, the one it can merge with. */
function nextOpen(shards) {
  const open = shards.filter((s) => !s.SequenceNumberRange.EndingSequenceNumber);
  const byStart = new Map(open.map((s) => [BigInt(s.HashKeyRange.StartingHashKey), s.ShardId]));
  const next = new Map();
  for (const s of open) {
    const neighbour = byStart.get(BigInt(s.HashKeyRange.EndingHashKey) + 1n);
    if (neighbour) next.set(s.ShardId, neighbour);
  }
  return next;
}

async function act(event, refresh, op, body) {
  event.target.disabled = true;
  try { await kinesis(op, body); } catch (e) { alert(e.message); }
  refresh();
}

function shardRow(stream, shard, counts, neighbour, refresh) {
  const range = shard.SequenceNumberRange;
  const closed = Boolean(range.EndingSequenceNumber);
  const start = BigInt(shard.HashKeyRange.StartingHashKey);
  const end = BigInt(shard.HashKeyRange.EndingHashKey);
  const split = closed || end === start ? null : el('button', {
    type: 'button', class: 'quiet', 'data-key': `split:${shard.ShardId}`,
    'aria-label': `Split ${shard.ShardId} in half`,
    onclick: (event) => act(event, refresh, 'SplitShard', {
      StreamName: stream, ShardToSplit: shard.ShardId, NewStartingHashKey: (start + (end - start + 1n) / 2n).toString(),
    }),
  }, 'Split');
  const merge = neighbour ? el('button', {
    type: 'button', class: 'quiet', 'data-key': `merge:${shard.ShardId}`,
    'aria-label': `Merge ${shard.ShardId} with ${neighbour}`,
    onclick: (event) => act(event, refresh, 'MergeShards', {
      StreamName: stream, ShardToMerge: shard.ShardId, AdjacentShardToMerge: neighbour,
    }),
  }, `Merge with ${shortShard(neighbour)}`) : null;
  return labelled(el('tr', { 'data-shard': shard.ShardId },
    el('th', { scope: 'row' }, el('code', {}, shard.ShardId)),
    el('td', {}, closed ? 'closed' : 'open'),
    el('td', { class: 'num' }, `${percent(start, end + 1n).toFixed(2)} %`),
    el('td', {}, el('span', {}, el('code', { class: 'seq' }, range.StartingSequenceNumber), ' … ',
      closed ? el('code', { class: 'seq' }, range.EndingSequenceNumber) : 'open')),
    el('td', { class: 'num' }, counts ? String(counts.records_in) : '0'),
    el('td', { class: 'num' }, bytes(counts ? counts.bytes_in : 0)),
    el('td', { class: 'stored' }, storedCell(stream, shard.ShardId)),
    el('td', { class: 'buttons' }, split, merge)), SHARD_HEADERS);
}

/** A Count button (the count is a scan of the shard), then the count it got. */
function storedCell(stream, shard) {
  const key = `${stream}/${shard}`;
  const button = el('button', {
    type: 'button', class: 'quiet', 'data-key': `count:${shard}`, 'aria-label': `Count the records ${shard} stores`,
    onclick: async () => {
      button.disabled = true;
      try {
        const stats = await shardStats(stream, shard);
        counted.set(key, `${stats.records} records · ${bytes(stats.bytes)}`);
      } catch (e) {
        counted.set(key, e.message);
      }
      replace(button.parentNode, storedCell(stream, shard));
    },
  }, counted.has(key) ? 'Count again' : 'Count');
  return el('span', { class: 'count' }, counted.has(key) ? [el('span', { class: 'counted' }, counted.get(key)), ' '] : null, button);
}

function consumerTable(consumers, subscriptions) {
  if (!consumers.length) return el('p', {}, 'No registered consumers (enhanced fan-out).');
  const headers = ['Consumer', 'Status', 'Registered', 'Subscriptions (last 5 min)', 'ARN'];
  return el('div', { class: 'scroll' }, el('table', { class: 'cards' },
    el('thead', {}, el('tr', {}, headers.map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, consumers.map((c) => {
      const mine = subscriptions.filter((s) => s.consumer_arn === c.ConsumerARN);
      return labelled(el('tr', { 'data-consumer': c.ConsumerName },
        el('th', { scope: 'row' }, c.ConsumerName),
        el('td', {}, c.ConsumerStatus),
        el('td', {}, new Date(c.ConsumerCreationTimestamp * 1000).toLocaleString()),
        el('td', { class: 'subscriptions' }, mine.length ? el('ul', { class: 'plain' }, mine.map((s) => el('li', {},
          el('code', {}, s.shard), ` since ${new Date(s.started_ms).toLocaleTimeString([], { hour12: false })}`))) : 'none'),
        el('td', {}, el('code', {}, c.ConsumerARN))), headers);
    }))));
}

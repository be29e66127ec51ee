// The streams page: every stream with its status, mode, shards, retention, consumers, tags and
// last minute's traffic; a form to create one and a two-step button to delete one.

import { el, replace, bytes, section, labelled } from './dom.js';
import { kinesis, all, listShards, traffic } from './api.js';

const REFRESH_MS = 3000;
const HEADERS = ['Name', 'Status', 'Mode', 'Open / closed shards', 'Retention', 'Consumers', 'Tags',
  'Records (1 min)', 'Bytes (1 min)', ''];
/** Streams whose Delete button was pressed once: name → when the confirmation lapses. */
const confirming = new Map();

export function streamsPage(main) {
  const status = el('p', { role: 'status', class: 'status' });
  const body = el('tbody');
  const table = el('div', { class: 'scroll' }, el('table', { id: 'streams', class: 'cards' },
    el('caption', { class: 'sr-only' }, 'Streams'),
    el('thead', {}, el('tr', {}, HEADERS.map((h) => el('th', { scope: 'col' }, h)))),
    body));
  let timer;
  let alive = true;

  async function refresh() {
    clearTimeout(timer);
    try {
      const [names, counts] = await Promise.all([
        all('ListStreams', {}, 'StreamNames'),
        traffic(),
      ]);
      // A stream deleted between the list and its description is left out until the next refresh.
      const rows = (await Promise.all(names.map((name) => describe(name, counts.streams[name]).catch(() => null))))
        .filter(Boolean);
      if (!alive) return;
      replace(body, rows.length ? rows.map((r) => row(r, refresh)) :
        el('tr', {}, el('td', { colspan: 10 }, 'No streams yet.')));
      replace(status, `${rows.length} stream${rows.length === 1 ? '' : 's'}`);
    } catch (e) {
      if (alive) replace(status, `Could not list streams: ${e.message}`);
    }
    if (alive) timer = setTimeout(refresh, REFRESH_MS);
  }

  replace(main,
    el('h1', {}, 'Streams'),
    createForm(status, refresh),
    section('All streams', status, table));
  refresh();
  return () => { alive = false; clearTimeout(timer); };
}

async function describe(name, counts) {
  const [summary, shards, tags] = await Promise.all([
    kinesis('DescribeStreamSummary', { StreamName: name }).then((a) => a.StreamDescriptionSummary),
    listShards(name).catch(() => []),
    kinesis('ListTagsForStream', { StreamName: name }).then((a) => a.Tags || []).catch(() => []),
  ]);
  const open = shards.filter((s) => !s.SequenceNumberRange.EndingSequenceNumber).length;
  return { name, summary, open, closed: shards.length - open, tags, counts };
}

function row({ name, summary, open, closed, tags, counts }, refresh) {
  const minute = counts ? counts.last_minute : { records_in: 0, bytes_in: 0 };
  const pending = (confirming.get(name) || 0) > Date.now();
  const remove = el('button', {
    type: 'button', class: pending ? 'danger' : 'quiet', 'data-key': `delete:${name}`,
    'aria-label': pending ? `Confirm deleting stream ${name}` : `Delete stream ${name}`,
    onclick: async () => {
      if (!((confirming.get(name) || 0) > Date.now())) {
        confirming.set(name, Date.now() + 5000);
        refresh();
        return;
      }
      confirming.delete(name);
      try { await kinesis('DeleteStream', { StreamName: name, EnforceConsumerDeletion: true }); }
      catch (e) { alert(e.message); }
      refresh();
    },
  }, pending ? 'Confirm delete' : 'Delete');
  const mode = summary.StreamModeDetails ? summary.StreamModeDetails.StreamMode : 'PROVISIONED';
  return labelled(el('tr', { 'data-stream': name },
    el('th', { scope: 'row' }, el('a', { href: `#/stream/${encodeURIComponent(name)}`, 'data-key': `open:${name}` }, name)),
    el('td', {}, el('span', { class: `badge ${summary.StreamStatus.toLowerCase()}` }, summary.StreamStatus)),
    el('td', {}, mode === 'ON_DEMAND' ? 'on-demand' : 'provisioned'),
    el('td', { class: 'num' }, `${open} / ${closed}`),
    el('td', { class: 'num' }, `${summary.RetentionPeriodHours} h`),
    el('td', { class: 'num' }, String(summary.ConsumerCount || 0)),
    el('td', {}, tags.length ? tags.map((t) => el('span', { class: 'tag' }, `${t.Key}=${t.Value || ''}`)) : '—'),
    el('td', { class: 'num records-minute' }, String(minute.records_in)),
    el('td', { class: 'num' }, bytes(minute.bytes_in)),
    el('td', {}, remove)), HEADERS);
}

function createForm(status, refresh) {
  const name = el('input', { id: 'new-name', name: 'name', required: true, pattern: '[a-zA-Z0-9_.\\-]{1,128}', autocomplete: 'off' });
  const shards = el('input', { id: 'new-shards', name: 'shards', type: 'number', min: 1, value: '1' });
  const mode = el('select', { id: 'new-mode', name: 'mode' },
    el('option', { value: 'PROVISIONED' }, 'Provisioned'), el('option', { value: 'ON_DEMAND' }, 'On-demand'));
  const outcome = el('p', { role: 'status', class: 'status', id: 'create-outcome' });
  mode.addEventListener('change', () => { shards.disabled = mode.value === 'ON_DEMAND'; });
  const form = el('form', {
    class: 'inline', 'aria-labelledby': 'h-create',
    onsubmit: async (event) => {
      event.preventDefault();
      const body = { StreamName: name.value, StreamModeDetails: { StreamMode: mode.value } };
      if (mode.value === 'PROVISIONED') body.ShardCount = Number(shards.value);
      try {
        await kinesis('CreateStream', body);
        replace(outcome, `Created ${name.value}.`);
        name.value = '';
      } catch (e) {
        replace(outcome, e.message);
      }
      refresh();
    },
  },
  el('h2', { id: 'h-create' }, 'Create a stream'),
  el('div', { class: 'fields' },
    el('label', { for: 'new-name' }, 'Name', name),
    el('label', { for: 'new-mode' }, 'Capacity', mode),
    el('label', { for: 'new-shards' }, 'Shards', shards),
    el('button', { type: 'submit', id: 'create' }, 'Create stream')),
  outcome);
  return form;
}

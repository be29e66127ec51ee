// The "Put a record" form: PutRecord with a partition key, data typed as text or base64, and an
// optional explicit hash key; the answer (shard and sequence number) is shown below it.

import { el, replace } from './dom.js';
import { kinesis } from './api.js';

function toBase64(text) {
  const utf8 = new TextEncoder().encode(text);
  let binary = '';
  for (const b of utf8) binary += String.fromCharCode(b);
  return btoa(binary);
}

export function putForm(stream, idPrefix = 'put') {
  const id = (s) => `${idPrefix}-${s}`;
  const key = el('input', { id: id('key'), required: true, maxlength: 256, autocomplete: 'off' });
  const data = el('textarea', { id: id('data'), rows: 3 });
  const encoding = el('select', { id: id('encoding') },
    el('option', { value: 'text' }, 'Text (UTF-8)'), el('option', { value: 'base64' }, 'Base64'));
  const hash = el('input', { id: id('hash'), inputmode: 'numeric', autocomplete: 'off', placeholder: 'optional' });
  const outcome = el('output', { id: id('outcome'), role: 'status', class: 'status', for: id('key') });
  return el('form', {
    class: 'put', 'aria-labelledby': id('heading'),
    onsubmit: async (event) => {
      event.preventDefault();
      const body = {
        StreamName: stream,
        PartitionKey: key.value,
        Data: encoding.value === 'text' ? toBase64(data.value) : data.value.trim(),
      };
      if (hash.value.trim()) body.ExplicitHashKey = hash.value.trim();
      try {
        const answer = await kinesis('PutRecord', body);
        replace(outcome, el('span', { class: 'ok' }, 'Stored in '),
          el('code', { class: 'put-shard' }, answer.ShardId), ' as sequence number ',
          el('code', { class: 'put-sequence' }, answer.SequenceNumber));
      } catch (e) {
        replace(outcome, el('span', { class: 'error' }, e.message));
      }
    },
  },
  el('h2', { id: id('heading') }, 'Put a record'),
  el('div', { class: 'fields' },
    el('label', { for: id('key') }, 'Partition key', key),
    el('label', { for: id('encoding') }, 'Data is', encoding),
    el('label', { for: id('hash') }, 'Explicit hash key', hash)),
  el('label', { for: id('data'), class: 'wide' }, 'Data', data),
  el('button', { type: 'submit', id: id('submit') }, 'Put record'),
  outcome);
}

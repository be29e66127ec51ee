// Throughput charts on a canvas: records/s and bytes/s, in (puts) and out (GetRecords and
// SubscribeToShard), from the traffic samples (`[at_ms, records_in, bytes_in, records_out,
// bytes_out]`, about one a second, up to five minutes). Each canvas has a text equivalent.

import { el, replace, bytes } from './dom.js';

const IN = '#1565c0';
const OUT = '#c2185b';

/** Per-second rates between consecutive samples: `[[at_ms, in, out], …]` for columns `a`, `b`. */
function rates(samples, a, b) {
  const out = [];
  for (let i = 1; i < samples.length; i++) {
    const dt = (samples[i][0] - samples[i - 1][0]) / 1000;
    if (dt <= 0) continue;
    out.push([samples[i][0], (samples[i][a] - samples[i - 1][a]) / dt, (samples[i][b] - samples[i - 1][b]) / dt]);
  }
  return out;
}

function chart(title, format) {
  const canvas = el('canvas', { width: 600, height: 160, role: 'img', 'aria-label': title });
  const caption = el('p', { class: 'legend' });
  const node = el('figure', { class: 'chart' }, el('figcaption', {}, title), canvas, caption);
  function draw(points) {
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth || 600;
    const height = 160;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    const g = canvas.getContext('2d');
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, width, height);
    const pad = { left: 64, right: 8, top: 8, bottom: 20 };
    const peak = Math.max(0, ...points.map((p) => Math.max(p[1], p[2])));
    // The scale never collapses to nothing on an idle stream.
    const max = Math.max(1, peak);
    const end = points.length ? points[points.length - 1][0] : Date.now();
    const start = end - 300000;
    const x = (t) => pad.left + ((t - start) / 300000) * (width - pad.left - pad.right);
    const y = (v) => height - pad.bottom - (v / max) * (height - pad.top - pad.bottom);
    g.strokeStyle = '#ccc';
    g.fillStyle = '#555';
    g.font = '11px system-ui, sans-serif';
    g.lineWidth = 1;
    for (const v of [0, max / 2, max]) {
      g.beginPath(); g.moveTo(pad.left, y(v)); g.lineTo(width - pad.right, y(v)); g.stroke();
      g.fillText(format(v), 4, y(v) + 4);
    }
    g.fillText('−5 min', pad.left, height - 4);
    g.fillText('now', width - pad.right - 22, height - 4);
    for (const [column, color] of [[1, IN], [2, OUT]]) {
      g.strokeStyle = color;
      g.lineWidth = 2;
      g.beginPath();
      points.forEach((p, i) => (i ? g.lineTo(x(p[0]), y(p[column])) : g.moveTo(x(p[0]), y(p[column]))));
      g.stroke();
    }
    const last = points.length ? points[points.length - 1] : [0, 0, 0];
    const text = `now: in ${format(last[1])}, out ${format(last[2])}; peak ${format(peak)}`;
    canvas.setAttribute('aria-label', `${title}, ${text}`);
    replace(caption, el('span', { class: 'key-in' }, '■ in'), ' ', el('span', { class: 'key-out' }, '■ out'), ` · ${text}`);
  }
  return { node, draw };
}

export function throughputCharts() {
  const records = chart('Records per second', (v) => `${v.toFixed(v < 10 ? 1 : 0)}/s`);
  const volume = chart('Bytes per second', (v) => `${bytes(Math.round(v))}/s`);
  return {
    node: el('div', { class: 'charts', id: 'charts' }, records.node, volume.node),
    update(samples) {
      records.draw(rates(samples, 1, 3));
      volume.draw(rates(samples, 2, 4));
    },
  };
}

// Building the page from data without ever parsing data as HTML: every string given to `el`
// becomes a text node, so partition keys and record data (user input) are shown as typed.

/** `el('td', {class: 'x'}, 'text', child)`: attributes set one by one; `on<event>` takes a function. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      node.addEventListener(name.slice(2), value);
    } else if (name === 'style' && typeof value === 'object') {
      // Through the CSSOM: the Content-Security-Policy forbids inline style attributes.
      Object.assign(node.style, value);
    } else if (name === 'value') {
      node.value = value;
    } else {
      node.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else if (child instanceof Node) node.appendChild(child);
    else node.appendChild(document.createTextNode(String(child)));
  }
}

/** Replaces `node`'s children, keeping keyboard focus on the element with the same `data-key`. */
export function replace(node, ...children) {
  const focused = document.activeElement;
  const key = focused && node.contains(focused) ? focused.dataset.key : undefined;
  node.replaceChildren();
  append(node, children);
  if (key) {
    const again = node.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (again) again.focus();
  }
}

export function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** A short form of a shard id: `shardId-000000000003` → `3`. */
export function shortShard(id) {
  const n = /(\d+)$/.exec(id);
  return n ? String(Number(n[1])) : id;
}

export function section(title, ...children) {
  const id = 'h-' + title.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  return el('section', { 'aria-labelledby': id }, el('h2', { id }, title), ...children);
}

/** Names each cell of `row` after its column, for the one-column layout of narrow screens. */
export function labelled(row, headers) {
  [...row.children].forEach((cell, i) => { if (headers[i]) cell.dataset.label = headers[i]; });
  return row;
}

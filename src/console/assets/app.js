// The console's router: `#/` streams, `#/stream/NAME` one stream, `#/tail/NAME` its live tail.
// Each page renders into <main> and returns a function that stops its timers.

import { el, replace } from './dom.js';
import { streamsPage } from './streams.js';
import { streamPage } from './stream.js';
import { tailPage } from './tail.js';

const main = document.getElementById('main');
const crumbs = document.getElementById('crumbs');
let stop = () => {};

function route(event) {
  // Only `#/…` names a page; any other fragment (the skip link's `#main`) is not a navigation.
  if (event && !location.hash.startsWith('#/')) return;
  stop();
  const hash = decodeURIComponent(location.hash.replace(/^#\/?/, ''));
  const [kind, ...rest] = hash.split('/');
  const name = rest.join('/');
  const trail = [el('li', {}, el('a', { href: '#/' }, 'Streams'))];
  if (kind === 'stream' && name) {
    trail.push(el('li', {}, el('a', { href: `#/stream/${encodeURIComponent(name)}`, 'aria-current': 'page' }, name)));
    replace(crumbs, trail);
    stop = streamPage(main, name);
  } else if (kind === 'tail' && name) {
    trail.push(el('li', {}, el('a', { href: `#/stream/${encodeURIComponent(name)}` }, name)));
    trail.push(el('li', {}, el('a', { href: `#/tail/${encodeURIComponent(name)}`, 'aria-current': 'page' }, 'Live tail')));
    replace(crumbs, trail);
    stop = tailPage(main, name);
  } else {
    replace(crumbs, trail);
    stop = streamsPage(main);
  }
  const heading = main.querySelector('h1');
  document.title = `${heading ? heading.textContent : 'Streams'} · kinesd console`;
  // After a navigation, focus moves to the new page (as a page load would put it at the top);
  // on the first load it stays where the browser puts it, so Tab reaches the skip link first.
  if (event) main.focus({ preventScroll: true });
}

document.querySelector('.skip').addEventListener('click', (event) => {
  event.preventDefault();
  main.focus();
});
window.addEventListener('hashchange', route);
route();

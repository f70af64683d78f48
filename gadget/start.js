// The gadget's start-up: where to load gadget.js and gadget.css from, and loading them. The XML
// cannot load this file from the gadget's folder before it knows that folder, so
// `corscheck gadget build` bundles it into TestCORSgadget.xml's content, with the stamped names
// of gadget.js and gadget.css and the start-up failure message of each catalog.
//
// Shindig renders the gadget at /gadgets/ifr?url=<spec URL>, the spec URL being the layout's
// gadget URL as Finesse resolved it. Finesse fetches its specs itself, so that URL may be one only
// Finesse can reach (http://localhost:8082/3rdpartygadget/files/…, or http on its FQDN), while the
// agent's browser knows Finesse by another name still (a VPN-less reverse proxy).

import { pickLocale } from './locale.js';

// isLocal says whether a host is the agent's own machine: localhost, *.localhost and loopback
// addresses, which Chromium also counts as potentially trustworthy (never mixed content).
const isLocal = (host) => /^(localhost|.+\.localhost|127(\.\d+){3}|\[::1\])\.?$/i.test(host);

// usable says whether a page may load modules from a URL: http(s), no mixed content, and not
// the agent's own machine unless the page is on it too.
function usable(page, url) {
  if (!/^https?:$/.test(url.protocol)) return false;
  if (isLocal(url.hostname)) return isLocal(page.hostname);
  return url.protocol === 'https:' || page.protocol === 'http:';
}

// bases lists, best first, the folders the gadget's files may be loaded from by a page at
// pageHref whose spec URL (the iframe's url parameter) is spec. Outside a gadget container there
// is no spec, and the page sits in the gadget's folder. Finesse serves /3rdpartygadget/ on every
// name the browser reaches it by, so such a path is first tried on the page's own origin.
export function bases(pageHref, spec) {
  const page = new URL(pageHref);
  if (!spec) return [new URL('.', page).href];
  let url;
  try {
    url = new URL(spec, page);
  } catch {
    return [];
  }
  const out = [];
  if (url.pathname.startsWith('/3rdpartygadget/')) out.push(new URL('.', new URL(url.pathname, page.origin)).href);
  if (usable(page, url)) out.push(new URL('.', url).href);
  return [...new Set(out)];
}

// within settles as promise does, or fails after ms: a host that never answers (a firewall that
// drops packets) must not keep the gadget blank.
function within(promise, ms) {
  let timer;
  const late = new Promise((resolve, reject) => {
    timer = setTimeout(reject, ms, new Error(`no answer in ${ms / 1000} s`));
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

// run loads the gadget from the first base that works and boots it once its style sheet has
// loaded (or failed: a plain gadget beats none). When no base works, it says so once, naming
// every URL it tried (or the spec URL, when the browser may load from none) and the last error,
// in the desktop's language. js and css are the files' names in the folder; title is the
// gadget's; messages holds the failure message per language; load imports a module; a file
// that has not loaded within timeoutMs counts as failed.
export async function run(win, doc, { js, css, title, messages, load, timeoutMs = 15000 }) {
  const params = new URLSearchParams(win.location.search);
  const spec = params.get('url');
  const tried = [];
  let error = '';
  for (const base of bases(win.location.href, spec)) {
    const url = new URL(js, base).href;
    tried.push(url);
    const link = Object.assign(doc.createElement('link'), { rel: 'stylesheet', href: new URL(css, base).href });
    const styled = new Promise((settle) => {
      link.addEventListener('load', settle);
      link.addEventListener('error', settle);
    });
    doc.head.append(link);
    let gadget;
    try {
      gadget = await within(load(url), timeoutMs);
    } catch (e) {
      error = e;
      link.remove();
      continue;
    }
    await within(styled, timeoutMs).catch(() => {});
    try {
      return await gadget.boot(win, doc);
    } catch (e) {
      // the files are there; another base would not boot any better
      error = e;
      break;
    }
  }
  const lang = pickLocale(params.get('up_locale'), params.get('locale'), win.navigator?.language);
  doc.getElementById('corscheck').textContent = `${title} ${messages[lang]} ${tried.join(', ') || spec} ${error}`.trim();
}

// start runs the gadget once the container is ready: in Finesse when the pub/sub hub has
// connected (gadgets.HubSettings.onConnect, as Finesse requires; a handler set before is kept),
// elsewhere (the simulator without a hub) once the document has loaded.
export function start(win, doc, { load = (url) => import(url), ...files }) {
  let started = false;
  const go = () => {
    if (!started) {
      started = true;
      run(win, doc, { ...files, load });
    }
  };
  const hub = win.gadgets?.HubSettings;
  if (hub) {
    const previous = hub.onConnect;
    hub.onConnect = function onConnect(...args) {
      if (typeof previous === 'function') previous.apply(this, args);
      go();
    };
  } else if (doc.readyState === 'loading') {
    doc.addEventListener('DOMContentLoaded', go);
  } else {
    go();
  }
}

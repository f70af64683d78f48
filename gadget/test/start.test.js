import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHTML } from 'linkedom';
import { bases, run, start } from '../start.js';

const FINESSE = 'https://finessep.example.com:8445';
const SPEC = '/3rdpartygadget/files/corscheck-gadget/TestCORSgadget.xml?cuic=a.example';
const FOLDER = '/3rdpartygadget/files/corscheck-gadget/';
const ifr = (origin, spec) => `${origin}/gadgets/ifr?mid=3&url=${encodeURIComponent(spec)}&up_locale=en_US`;

// Every form in which Finesse names the spec (the iframe's url parameter), and where the gadget's
// files may come from, best first.
const forms = [
  ['root-relative', FINESSE, SPEC, [`${FINESSE}${FOLDER}`]],
  ['absolute https on the desktop\'s own origin', FINESSE, `${FINESSE}${SPEC}`, [`${FINESSE}${FOLDER}`]],
  ['the desktop on 443', 'https://finessep.example.com', `https://finessep.example.com${SPEC}`, [`https://finessep.example.com${FOLDER}`]],
  // Finesse resolves a root-relative layout URL to its own internal address, which only Finesse
  // reaches: loopback for the agent's browser, and http (mixed content) on the FQDN.
  ['internal, on localhost', FINESSE, `http://localhost:8082${SPEC}`, [`${FINESSE}${FOLDER}`]],
  ['internal, on the FQDN', FINESSE, `http://finessep.example.com:8082${SPEC}`, [`${FINESSE}${FOLDER}`]],
  ['internal, on 127.0.0.1', FINESSE, `http://127.0.0.1:8082${SPEC}`, [`${FINESSE}${FOLDER}`]],
  ['internal, https on localhost', FINESSE, `https://localhost:8445${SPEC}`, [`${FINESSE}${FOLDER}`]],
  ['the corscheck service', FINESSE, 'https://corscheck.example.com:8443/gadget/TestCORSgadget.xml', ['https://corscheck.example.com:8443/gadget/']],
  ['a customer web server', FINESSE, 'https://web.example.com/finesse/corscheck/TestCORSgadget.xml?x=1#y', ['https://web.example.com/finesse/corscheck/']],
  // Another host with Finesse's folder layout: the desktop's own folder first, then that host.
  ['another host under /3rdpartygadget/', FINESSE, `https://web.example.com${SPEC}`, [`${FINESSE}${FOLDER}`, `https://web.example.com${FOLDER}`]],
  // Behind the VPN-less reverse proxy the page has the proxy's name; Finesse's own name may not
  // be reachable, so the proxy comes first.
  ['reverse proxy, Finesse\'s name in the spec', 'https://vpnless.example.com', `${FINESSE}${SPEC}`, [`https://vpnless.example.com${FOLDER}`, `${FINESSE}${FOLDER}`]],
  ['reverse proxy, internal spec', 'https://vpnless.example.com', `http://localhost:8082${SPEC}`, [`https://vpnless.example.com${FOLDER}`]],
  ['reverse proxy, root-relative', 'https://vpnless.example.com:443', SPEC, [`https://vpnless.example.com${FOLDER}`]],
  // A page on the agent's own machine (the simulator) may load from it.
  ['simulator, internal spec', 'https://finesse.localhost:4443', `http://localhost:8082${SPEC}`, ['https://finesse.localhost:4443' + FOLDER, `http://localhost:8082${FOLDER}`]],
  ['simulator, internal spec on its FQDN', 'https://finesse.localhost:4443', `http://finesse.localhost:8082${SPEC}`, ['https://finesse.localhost:4443' + FOLDER, `http://finesse.localhost:8082${FOLDER}`]],
  ['a desktop on http may load from http', 'http://finesse.example.com', 'http://web.example.com/g/TestCORSgadget.xml', ['http://web.example.com/g/']],
  // Nothing the browser may load: mixed content, another scheme, not a URL.
  ['http on another host', FINESSE, 'http://web.example.com/g/TestCORSgadget.xml', []],
  ['another scheme', FINESSE, 'ftp://web.example.com/g/TestCORSgadget.xml', []],
  ['javascript:', FINESSE, 'javascript:alert(1)', []],
  ['not a URL', FINESSE, 'http://[oops/x.xml', []],
];

for (const [name, origin, spec, want] of forms) {
  test(`bases: ${name}`, () => {
    assert.deepEqual(bases(ifr(origin, spec), spec), want);
  });
}

test('bases: without a url parameter (outside a gadget container) the page\'s own folder', () => {
  assert.deepEqual(bases('http://127.0.0.1:8080/sim/gadget.html?cuic=a', null), ['http://127.0.0.1:8080/sim/']);
  assert.deepEqual(bases('http://127.0.0.1:8080/sim/gadget.html', ''), ['http://127.0.0.1:8080/sim/']);
});

const MESSAGES = { en: 'could not start. It did not load from:', nl: 'kon niet starten. Niet geladen van:', ko: '시작 실패. 불러오지 못한 주소:' };
const FILES = { js: 'gadget.js?v=ABC', css: 'gadget.css?v=DEF', title: 'CORS Quick Check' };

// gadgetPage is the iframe Finesse renders: the content's div, at address href. A style sheet
// added to it loads (sheets 'load'), fails ('error') or waits for the test to settle it
// ('manual'), a moment after it is added, as in a browser.
function gadgetPage(href, { sheets = 'load', ...extra } = {}) {
  const { document, window } = parseHTML('<!doctype html><html><head></head><body><div id="corscheck"></div></body></html>');
  const win = { location: new URL(href), document, navigator: { language: 'en-US' }, ...extra };
  const append = document.head.append.bind(document.head);
  document.head.append = (...nodes) => {
    append(...nodes);
    if (sheets !== 'manual') for (const n of nodes) setTimeout(() => n.dispatchEvent(new window.Event(sheets)), 0);
  };
  return { win, doc: document, Event: window.Event };
}

// importer loads the modules of the URLs in ok (each a module with boot), fails for the others,
// and records what it was asked for.
function importer(ok, booted) {
  const asked = [];
  const load = async (url) => {
    asked.push(url);
    if (!ok.includes(url)) throw new TypeError(`Failed to fetch dynamically imported module: ${url}`);
    return { boot: async (win, doc) => { booted.push({ url, win, doc }); } };
  };
  return { asked, load };
}

test('run loads gadget.js and gadget.css from the first base, and boots once the style sheet is there', async () => {
  const p = gadgetPage(ifr(FINESSE, `http://localhost:8082${SPEC}`), { sheets: 'manual' });
  const booted = [];
  const { asked, load } = importer([`${FINESSE}${FOLDER}gadget.js?v=ABC`], booted);
  const done = run(p.win, p.doc, { ...FILES, messages: MESSAGES, load });
  for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(asked, [`${FINESSE}${FOLDER}gadget.js?v=ABC`], 'gadget.js has loaded');
  assert.equal(booted.length, 0, 'no boot before the style sheet has loaded');
  p.doc.querySelector('link').dispatchEvent(new p.Event('load'));
  await done;
  assert.deepEqual(asked, [`${FINESSE}${FOLDER}gadget.js?v=ABC`]);
  assert.equal(booted.length, 1);
  assert.equal(booted[0].win, p.win);
  assert.deepEqual([...p.doc.querySelectorAll('link')].map((l) => [l.rel, l.getAttribute('href')]),
    [['stylesheet', `${FINESSE}${FOLDER}gadget.css?v=DEF`]]);
  assert.equal(p.doc.getElementById('corscheck').textContent, '');
});

test('run boots even when the style sheet fails: a plain gadget beats none', async () => {
  const p = gadgetPage(ifr(FINESSE, SPEC), { sheets: 'error' });
  const booted = [];
  const { load } = importer([`${FINESSE}${FOLDER}gadget.js?v=ABC`], booted);
  await run(p.win, p.doc, { ...FILES, messages: MESSAGES, load });
  assert.equal(booted.length, 1);
});

test('run tries the next base when one fails, and keeps only that one\'s style sheet', async () => {
  const spec = `https://web.example.com${SPEC}`;
  const p = gadgetPage(ifr(FINESSE, spec));
  const booted = [];
  const { asked, load } = importer([`https://web.example.com${FOLDER}gadget.js?v=ABC`], booted);
  await run(p.win, p.doc, { ...FILES, messages: MESSAGES, load });
  assert.deepEqual(asked, [`${FINESSE}${FOLDER}gadget.js?v=ABC`, `https://web.example.com${FOLDER}gadget.js?v=ABC`]);
  assert.equal(booted.length, 1);
  assert.deepEqual([...p.doc.querySelectorAll('link')].map((l) => l.getAttribute('href')), [`https://web.example.com${FOLDER}gadget.css?v=DEF`]);
});

test('when every base fails, run says so once, naming every URL it tried and the last error', async () => {
  const spec = `https://web.example.com${SPEC}`;
  const p = gadgetPage(ifr(FINESSE, spec));
  const booted = [];
  const { asked, load } = importer([], booted);
  await run(p.win, p.doc, { ...FILES, messages: MESSAGES, load });
  const text = p.doc.getElementById('corscheck').textContent;
  assert.equal(asked.length, 2);
  assert.equal(booted.length, 0);
  assert.ok(text.startsWith(`CORS Quick Check ${MESSAGES.en} ${asked.join(', ')}`), text);
  assert.match(text, /TypeError: Failed to fetch dynamically imported module: https:\/\/web\.example\.com/);
  assert.equal(text.split('could not start').length, 2, 'said once');
  assert.equal(p.doc.querySelectorAll('link').length, 0, 'no style sheet of a base that failed');
});

test('a base that never answers counts as failed after the timeout, as does a style sheet', async () => {
  const spec = `https://web.example.com${SPEC}`;
  const p = gadgetPage(ifr(FINESSE, spec), { sheets: 'manual' });
  const booted = [];
  const { asked, load } = importer([`https://web.example.com${FOLDER}gadget.js?v=ABC`], booted);
  const hangFirst = (url) => (asked.length ? load(url) : (asked.push(url), new Promise(() => {})));
  await run(p.win, p.doc, { ...FILES, messages: MESSAGES, load: hangFirst, timeoutMs: 5 });
  assert.deepEqual(asked, [`${FINESSE}${FOLDER}gadget.js?v=ABC`, `https://web.example.com${FOLDER}gadget.js?v=ABC`]);
  assert.equal(booted.length, 1, 'booted without the style sheet, which never loaded');

  const q = gadgetPage(ifr(FINESSE, SPEC));
  await run(q.win, q.doc, { ...FILES, messages: MESSAGES, load: () => new Promise(() => {}), timeoutMs: 5 });
  assert.match(q.doc.getElementById('corscheck').textContent, /could not start.*gadget\.js\?v=ABC Error: no answer in 0\.005 s/);
});

test('with nothing the browser may load from, run names the spec URL and loads nothing', async () => {
  const spec = 'http://web.example.com/g/TestCORSgadget.xml';
  const p = gadgetPage(ifr(FINESSE, spec));
  const { asked, load } = importer([], []);
  await run(p.win, p.doc, { ...FILES, messages: MESSAGES, load });
  assert.deepEqual(asked, []);
  assert.equal(p.doc.getElementById('corscheck').textContent, `CORS Quick Check ${MESSAGES.en} ${spec}`);
});

test('the failure is in the desktop\'s language, else the browser\'s, else English', async () => {
  const cases = [
    [`${FINESSE}/gadgets/ifr?url=x.xml&up_locale=nl_NL`, 'en-US', MESSAGES.nl],
    [`${FINESSE}/gadgets/ifr?url=x.xml&locale=ko_KR`, 'en-US', MESSAGES.ko],
    [`${FINESSE}/gadgets/ifr?url=x.xml`, 'ko', MESSAGES.ko],
    [`${FINESSE}/gadgets/ifr?url=x.xml&up_locale=fr_FR`, 'nl', MESSAGES.en],
  ];
  for (const [href, language, want] of cases) {
    const p = gadgetPage(href, { navigator: { language } });
    await run(p.win, p.doc, { ...FILES, messages: MESSAGES, load: importer([], []).load });
    assert.ok(p.doc.getElementById('corscheck').textContent.includes(want), href);
  }
});

test('a boot that fails is reported like a load that fails', async () => {
  const p = gadgetPage(ifr(FINESSE, SPEC));
  const load = async () => ({ boot: async () => { throw new Error('boom'); } });
  await run(p.win, p.doc, { ...FILES, messages: MESSAGES, load });
  assert.match(p.doc.getElementById('corscheck').textContent, /could not start.*gadget\.js\?v=ABC.*boom/);
});

test('in Finesse start waits for onConnect, keeps an earlier handler, and starts once', async () => {
  const earlier = [];
  const gadgets = { HubSettings: { onConnect: () => earlier.push(1) } };
  const p = gadgetPage(ifr(FINESSE, SPEC), { gadgets });
  const booted = [];
  const { asked, load } = importer([`${FINESSE}${FOLDER}gadget.js?v=ABC`], booted);
  start(p.win, p.doc, { ...FILES, messages: MESSAGES, load });
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(asked, [], 'nothing before the hub connects');
  gadgets.HubSettings.onConnect();
  gadgets.HubSettings.onConnect();
  // start does not say when the gadget has booted: give it a few turns.
  for (let i = 0; i < 50 && !booted.length; i++) await new Promise((r) => setTimeout(r, 0));
  assert.equal(earlier.length, 2, 'an onConnect set before is still called');
  assert.deepEqual(asked, [`${FINESSE}${FOLDER}gadget.js?v=ABC`], 'started once');
  assert.equal(booted.length, 1);
});

test('outside a gadget container start begins at once, from the page\'s own folder', async () => {
  const p = gadgetPage('http://127.0.0.1:8080/sim/gadget.html?cuic=a.example');
  const { asked, load } = importer([], []);
  start(p.win, p.doc, { ...FILES, messages: MESSAGES, load });
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(asked, ['http://127.0.0.1:8080/sim/gadget.js?v=ABC']);
});

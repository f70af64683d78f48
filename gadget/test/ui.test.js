import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHTML } from 'linkedom';
import { boot } from '../gadget.js';
import { GADGET_VERSION } from '../check.js';

const HOSTILE = '<img src=x onerror=alert(1)>';
const ORIGIN = 'https://finesse.example:8445';

// page makes a gadget page and a window around it, as Finesse or the simulator would.
function page({ query = '', service = '__CORSCHECK_SERVICE__', fetch = targetsFetch(), win = {} } = {}) {
  const { document, window } = parseHTML(`<!doctype html><html><head></head><body>
    <div id="corscheck" data-service="${service}" data-defaults="__CORSCHECK_DEFAULTS__"></div></body></html>`);
  const clipboard = [];
  const w = {
    document, location: new URL(`${ORIGIN}/gadgets/ifr${query}`), fetch,
    navigator: { language: 'en-US', userAgent: 'TestBrowser/1', clipboard: { writeText: async (s) => { clipboard.push(s); } } },
    Event: window.Event, ...win,
  };
  return { doc: document, win: w, root: document.getElementById('corscheck'), clipboard };
}

// targetsFetch answers the gadget's two requests per URL: hosts named ok-* allow CORS, block-*
// answer without CORS, and anything else does not answer at all.
function targetsFetch(calls = [], service = {}) {
  return async (url, init = {}) => {
    calls.push({ url, init });
    const u = new URL(url);
    if (u.pathname.startsWith('/api/v1/')) {
      const body = service[u.pathname](init.body && JSON.parse(init.body));
      return { ok: true, status: 200, json: async () => body };
    }
    if (u.hostname.startsWith('ok-') || (u.hostname.startsWith('block-') && init.mode === 'no-cors')) return { status: 200 };
    throw new TypeError('Failed to fetch');
  };
}

const fire = (win, el, type) => el.dispatchEvent(new win.Event(type, { bubbles: true, cancelable: true }));
const type = (win, el, value) => {
  el.value = value;
  fire(win, el, 'input');
  fire(win, el, 'change');
};
async function waitFor(cond, what) {
  for (let i = 0; i < 200; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.fail(`timed out waiting for ${what}`);
}
const submit = async (p) => {
  fire(p.win, p.root.querySelector('form'), 'submit');
  await waitFor(() => !p.root.hasAttribute('aria-busy'), 'the test to finish');
};
const select = (p, id) => {
  const s = p.root.querySelector('#cc-target');
  [...s.options].find((o) => o.value === id).selected = true;
  fire(p.win, s, 'change');
};
const noMarkup = (doc) => assert.equal(doc.querySelectorAll('img, script, svg, iframe, object').length, 0, 'markup was created from data');

test('without a service: built-in targets, nodes from the gadget URL, English, the page origin', async () => {
  const p = page({ query: '?url=' + encodeURIComponent('https://finesse.example:8445/3rdpartygadget/files/TestCORSgadget.xml?cuic=pub.example,sub.example') });
  await boot(p.win, p.doc);
  const options = [...p.root.querySelectorAll('#cc-target option')].map((o) => o.textContent);
  assert.deepEqual(options, ['CUIC (Unified Intelligence Center)', 'Live Data', 'Finesse REST API', 'Custom URL']);
  assert.equal(p.root.querySelector('#cc-origin').textContent, ORIGIN);
  assert.deepEqual([...p.root.querySelectorAll('.cc-rows input[id^="cc-node-"]')].map((i) => i.value), ['pub.example', 'sub.example']);
  assert.ok(p.root.textContent.includes('No corscheck service is configured'));
  assert.equal(p.root.querySelector('button[type="submit"]').textContent, 'Test');
});

test('every control has a label, status is announced, errors are alerts', async () => {
  const p = page();
  await boot(p.win, p.doc);
  for (const c of p.root.querySelectorAll('input, select, textarea')) {
    const labelled = (c.id && p.root.querySelector(`label[for="${c.id}"]`)) || c.closest('label') || c.getAttribute('aria-label');
    assert.ok(labelled, `unlabelled ${c.outerHTML}`);
  }
  for (const b of p.root.querySelectorAll('button')) assert.ok(b.textContent.trim() || b.getAttribute('aria-label'), b.outerHTML);
  assert.equal(p.root.querySelector('[aria-live]').getAttribute('aria-live'), 'polite');
  assert.ok(p.root.querySelector('[role="alert"]'));
  assert.equal(p.root.querySelectorAll('a[href^="javascript:"], [onclick], [onerror]').length, 0);
});

test('a full test: checks, results posted, failures diagnosed and the fix shown', async () => {
  const calls = [];
  const posted = [];
  const diagnosed = [];
  const fetch = targetsFetch(calls, {
    '/api/v1/targets': () => ({ targets: [{ id: 'cuic', kind: 'cuic', label: 'CUIC', endpoints: [{ name: 'CUIC 8444', port: 8444, path: '/cuic/rest/status/' }], request: { method: 'GET', headers: [{ name: 'Authorization', value: 'Basic Y29yc2NoZWNrOnByb2Jl' }], credentials: 'include' }, nodes: ['ok-pub.example', 'block-sub.example', 'gone.example'] }] }),
    '/api/v1/results': (body) => { posted.push(...body); return { ids: body.map((_, i) => 40 + i) }; },
    '/api/v1/diagnose': (body) => {
      diagnosed.push(body);
      return body.url.includes('block-') ? {
        id: 1, report: {
          verdict: 'blocked', corsError: 'PreflightMissingAllowOriginHeader', failedParameter: '', explanation: 'The preflight got 403 without Access-Control-Allow-Origin.',
          console: `Access to fetch at '${body.url}' from origin '${ORIGIN}' has been blocked by CORS policy`,
          fixes: [{ node: 'block-sub.example', summary: 'Allow the Finesse origin.', commands: [`utils cuic cors allowed_origin add ${ORIGIN}`], restart: ['Intelligence Center Reporting Service'] }],
        },
      } : { id: 2, report: { verdict: 'unreachable', network: { class: 'dns', message: 'no such host' }, explanation: 'the host name does not resolve', fixes: [] } };
    },
  });
  const adjusted = [];
  const p = page({ service: 'https://cc.example:8443/', fetch, win: { gadgets: { window: { adjustHeight: (n) => adjusted.push(n), setTitle: (s) => adjusted.push(s) } } } });
  await boot(p.win, p.doc, { timeoutMs: 200 });
  await submit(p);

  assert.equal(p.root.querySelector('[aria-live]').textContent, 'Done: 1 allowed, 1 blocked by CORS, 1 unreachable.');
  assert.deepEqual([...p.root.querySelectorAll('.cc-node h3')].map((h) => h.textContent), ['ok-pub.example', 'block-sub.example', 'gone.example']);
  assert.deepEqual([...p.root.querySelectorAll('.cc-verdict')].map((v) => v.textContent), ['allowed', 'blocked by CORS', 'unreachable']);
  assert.deepEqual(posted.map((r) => [r.node, r.verdict, r.pageOrigin, r.userAgent]), [
    ['ok-pub.example', 'allowed', ORIGIN, 'TestBrowser/1'], ['block-sub.example', 'blocked', ORIGIN, 'TestBrowser/1'], ['gone.example', 'unreachable', ORIGIN, 'TestBrowser/1'],
  ]);
  assert.deepEqual(diagnosed.map((d) => [d.url, d.resultId, d.origin, d.kind]), [
    ['https://block-sub.example:8444/cuic/rest/status/', 41, ORIGIN, 'cuic'], ['https://gone.example:8444/cuic/rest/status/', 42, ORIGIN, 'cuic'],
  ]);
  const blocked = p.root.querySelector('.cc-blocked');
  assert.ok(blocked.querySelector('.cc-fix pre').textContent.includes(`utils cuic cors allowed_origin add ${ORIGIN}`));
  assert.ok(blocked.textContent.includes('PreflightMissingAllowOriginHeader'));
  assert.ok(blocked.textContent.includes('Then restart: Intelligence Center Reporting Service'));
  // A name that does not resolve is no certificate to accept: no link to open.
  assert.equal(p.root.querySelector('.cc-unreachable a'), null);
  assert.ok(p.root.querySelector('.cc-unreachable').textContent.includes('the host name does not resolve'));
  await waitFor(() => adjusted.includes(undefined), 'adjustHeight()');
  assert.ok(adjusted.includes('CORS Quick Check'), 'setTitle');

  const [copyOrigin, copyReport] = [...p.root.querySelectorAll('button.cc-small')].filter((b) => /Copy/.test(b.textContent));
  fire(p.win, copyOrigin, 'click');
  fire(p.win, copyReport, 'click');
  await waitFor(() => p.clipboard.length === 2, 'the clipboard');
  assert.equal(p.clipboard[0], ORIGIN);
  // The ticket report: the test, then every check as the page shows it, diagnosis and fix included.
  const report = p.clipboard[1];
  for (const want of [ORIGIN, 'Target: CUIC', 'headers: authorization', 'https://ok-pub.example:8444/cuic/rest/status/', 'allowed', 'HTTP 200',
    'https://block-sub.example:8444/cuic/rest/status/', 'blocked by CORS', 'PreflightMissingAllowOriginHeader', 'The preflight got 403',
    `    Access to fetch at 'https://block-sub.example:8444/cuic/rest/status/'`, `      utils cuic cors allowed_origin add ${ORIGIN}`,
    'Then restart: Intelligence Center Reporting Service', 'https://gone.example:8444/cuic/rest/status/', 'the host name does not resolve']) {
    assert.ok(report.includes(want), want);
  }
  // The header names the version the results carry: the build's (the sources say 'devel').
  assert.ok(report.startsWith(`CORS Quick Check ${GADGET_VERSION}, `), report.split('\n')[0]);
  assert.match(report, /^CORS Quick Check \S+, \d{4}-\d\d-\d\dT/);
});

// The link to open a node in a tab (where the agent can accept its certificate) stands where the
// failure can be a certificate: before the diagnosis, when the service found a TLS problem, or
// when it could not tell. It is not after a timeout, nor for a name that does not resolve or a
// refused connection. The ticket report never carries the link's text.
test('open in a new tab: only where a certificate can be the cause, never in the report', async () => {
  const classes = { 'tls-a.example': 'tls', 'refused-a.example': 'refused', 'dns-a.example': 'dns', 'timeout-a.example': 'timeout' };
  const fetch = targetsFetch([], {
    '/api/v1/targets': () => ({ targets: [{ id: 'cuic', kind: 'cuic', label: 'CUIC', endpoints: [{ name: 'CUIC', port: 8444, path: '/' }], request: { method: 'GET', headers: [], credentials: 'include' }, nodes: [...Object.keys(classes), 'nodiag-a.example'] }] }),
    '/api/v1/results': (b) => ({ ids: b.map((_, i) => i + 1) }),
    '/api/v1/diagnose': (b) => {
      const c = classes[new URL(b.url).hostname];
      if (!c) throw new Error('the service failed');
      return { report: { verdict: 'unreachable', network: { class: c, message: `class ${c}` }, fixes: [] } };
    },
  });
  const p = page({ service: 'https://cc.example', fetch });
  await boot(p.win, p.doc, { timeoutMs: 200 });
  await submit(p);
  await waitFor(() => p.root.querySelectorAll('.cc-diag, .cc-check .cc-hint:last-child').length >= 5 && !p.root.textContent.includes('Asking'), 'the diagnoses');
  const linked = [...p.root.querySelectorAll('.cc-unreachable')].filter((c) => c.querySelector('a')).map((c) => new URL(c.querySelector('a').getAttribute('href')).hostname);
  assert.deepEqual(linked.sort(), ['nodiag-a.example', 'tls-a.example']);
  const link = p.root.querySelector('.cc-unreachable a');
  assert.equal(link.getAttribute('target'), '_blank');
  assert.match(link.getAttribute('rel'), /noopener/);
  fire(p.win, [...p.root.querySelectorAll('button.cc-small')].find((b) => b.textContent === 'Copy report'), 'click');
  await waitFor(() => p.clipboard.length === 1, 'the clipboard');
  assert.ok(p.clipboard[0].includes('class tls'), p.clipboard[0]);
  assert.ok(!p.clipboard[0].includes(link.textContent), 'the report carries the link text');
});

test('hostile node names, labels, header values and service answers stay text', async () => {
  const fetch = targetsFetch([], {
    '/api/v1/targets': () => ({ targets: [
      { id: 'cuic', kind: 'cuic', label: HOSTILE, notes: HOSTILE, endpoints: [{ name: HOSTILE, port: 8444, path: '/' }], request: { method: 'GET', headers: [{ name: 'X-Test', value: HOSTILE }], credentials: 'include' }, nodes: ['block-a.example'] },
      { id: 'custom', kind: 'custom', label: 'Custom', endpoints: [], request: { method: 'GET', headers: [{ name: 'X-Evil', value: HOSTILE }], credentials: 'omit' }, nodes: [] },
    ] }),
    '/api/v1/results': (b) => ({ ids: b.map(() => 1) }),
    '/api/v1/diagnose': () => ({ report: { verdict: 'blocked', corsError: HOSTILE, failedParameter: HOSTILE, console: HOSTILE, explanation: HOSTILE, network: { message: HOSTILE }, fixes: [{ node: HOSTILE, summary: HOSTILE, commands: [HOSTILE], restart: [HOSTILE], notes: [HOSTILE] }] } }),
  });
  const p = page({ service: 'https://cc.example', fetch, query: `?cuic=${encodeURIComponent(HOSTILE)}` });
  await boot(p.win, p.doc, { timeoutMs: 200 });
  const node = p.root.querySelector('#cc-node-1');
  type(p.win, node, HOSTILE);
  await submit(p);
  // A pasted value splits into rows at white space; each part is named in the errors.
  const alert = p.root.querySelector('[role="alert"]').textContent;
  for (const part of HOSTILE.split(' ')) assert.ok(alert.includes(part), part);
  noMarkup(p.doc);
  for (const row of p.root.querySelectorAll('button[aria-label^="Remove"]')) fire(p.win, row, 'click');
  type(p.win, p.root.querySelector('#cc-node-1'), 'block-a.example');
  await submit(p);
  await waitFor(() => p.root.querySelector('.cc-diag'), 'the diagnosis');
  assert.ok(p.root.querySelector('.cc-diag').textContent.split(HOSTILE).length > 6);
  select(p, 'custom');
  assert.ok(p.root.querySelector('#cc-headers').value.includes(HOSTILE));
  type(p.win, p.root.querySelector('#cc-url'), `https://ok-x.example/?q=${encodeURIComponent(HOSTILE)}`);
  await submit(p);
  assert.ok(p.root.textContent.includes(HOSTILE));
  noMarkup(p.doc);
  assert.equal(p.root.querySelectorAll('[onerror]').length, 0);
});

test('the form refuses what it cannot test and says why', async () => {
  const calls = [];
  const p = page({ fetch: targetsFetch(calls) });
  await boot(p.win, p.doc);
  type(p.win, p.root.querySelector('#cc-node-1'), '');
  await submit(p);
  assert.equal(p.root.querySelector('[role="alert"]').textContent, 'Enter at least one node.');
  type(p.win, p.root.querySelector('#cc-node-1'), 'cuic.example:8444');
  const port = p.root.querySelector('.cc-port');
  type(p.win, port, '70000');
  type(p.win, p.root.querySelectorAll('input[aria-describedby="cc-ep-0"]')[1], 'cuic/rest/status/');
  await submit(p);
  assert.match(p.root.querySelector('[role="alert"]').textContent,
    /Not a host name or IP address: cuic\.example:8444.*port must be a number.*path must start with \//);
  select(p, 'custom');
  type(p.win, p.root.querySelector('#cc-url'), 'ftp://x.example/');
  type(p.win, p.root.querySelector('#cc-method'), 'TRACE');
  type(p.win, p.root.querySelector('#cc-headers'), 'Cookie: a=b\nno colon');
  await submit(p);
  const alert = p.root.querySelector('[role="alert"]').textContent;
  for (const want of ['absolute http or https URL', 'cannot send the method "TRACE"', 'line 1: the browser does not let a page set Cookie', 'line 2: write']) {
    assert.ok(alert.includes(want), want);
  }
  assert.equal(calls.length, 0, 'nothing was fetched');
});

test('where the browser refuses the clipboard, the text to copy is shown instead', async () => {
  const p = page({ win: { navigator: { language: 'en-US' } } }); // no Clipboard API, as on an insecure page
  await boot(p.win, p.doc);
  fire(p.win, [...p.root.querySelectorAll('button')].find((b) => b.textContent === 'Copy'), 'click');
  await waitFor(() => p.root.querySelector('pre'), 'the text to copy');
  assert.equal(p.root.querySelector('pre').textContent, ORIGIN);
  assert.match(p.root.querySelector('[aria-live]').textContent, /Could not copy/);
});

test('node rows: add, remove, and a pasted list becomes rows', async () => {
  const p = page();
  await boot(p.win, p.doc);
  const rows = () => [...p.root.querySelectorAll('input[id^="cc-node-"]')];
  const add = [...p.root.querySelectorAll('button')].find((b) => b.textContent === 'Add node');
  fire(p.win, add, 'click');
  assert.equal(rows().length, 2);
  assert.equal(p.root.querySelector('label[for="cc-node-2"]').textContent, 'Node 2');
  type(p.win, rows()[0], 'a.example, b.example c.example');
  assert.deepEqual(rows().map((r) => r.value), ['a.example', 'b.example', 'c.example', '']);
  fire(p.win, p.root.querySelector('button[aria-label="Remove node 2"]'), 'click');
  assert.deepEqual(rows().map((r) => r.value), ['a.example', 'c.example', '']);
  select(p, 'livedata');
  assert.deepEqual(rows().map((r) => r.value), ['']);
  select(p, 'cuic');
  assert.deepEqual(rows().map((r) => r.value), ['a.example', 'c.example', ''], 'each target keeps its nodes');
});

test('endpoint overrides and the custom request shape reach fetch()', async () => {
  const calls = [];
  const p = page({ fetch: targetsFetch(calls) });
  await boot(p.win, p.doc, { timeoutMs: 200 });
  select(p, 'livedata');
  type(p.win, p.root.querySelector('#cc-node-1'), 'ok-ld.example');
  type(p.win, p.root.querySelectorAll('.cc-port')[0], '443');
  await submit(p);
  assert.deepEqual([...new Set(calls.map((c) => c.url.split('?')[0]))], ['https://ok-ld.example/', 'https://ok-ld.example:12008/socket.io/']);
  calls.length = 0;
  select(p, 'custom');
  type(p.win, p.root.querySelector('#cc-url'), 'https://ok-api.example/v1?x=1');
  type(p.win, p.root.querySelector('#cc-method'), 'put');
  type(p.win, p.root.querySelector('#cc-headers'), 'X-Api-Key: k\nContent-Type: application/json');
  const cred = p.root.querySelector('#cc-credentials');
  [...cred.options].find((o) => o.value === 'omit').selected = true;
  await submit(p);
  const cors = calls.find((c) => c.init.mode === 'cors');
  assert.match(cors.url, /^https:\/\/ok-api\.example\/v1\?x=1&corscheck=/);
  assert.equal(cors.init.method, 'PUT');
  assert.equal(cors.init.credentials, 'omit');
  assert.deepEqual(cors.init.headers, [['X-Api-Key', 'k'], ['Content-Type', 'application/json']]);
  assert.deepEqual([...p.root.querySelectorAll('.cc-node h3')].map((h) => h.textContent), ['ok-api.example']);
});

test('the language follows Finesse: finesse.gadget.Config, then gadget prefs, then up_locale', async () => {
  const ko = page({ win: { finesse: { gadget: { Config: { locale: 'ko_KR', id: '1001', extension: '5001' } } } } });
  await boot(ko.win, ko.doc);
  assert.equal(ko.root.querySelector('button[type="submit"]').textContent, '테스트');
  function Prefs() {}
  Prefs.prototype.getString = (k) => (k === 'locale' ? 'nl_NL' : '');
  const nl = page({ win: { gadgets: { Prefs } } });
  await boot(nl.win, nl.doc);
  assert.equal(nl.root.querySelector('button[type="submit"]').textContent, 'Testen');
  const up = page({ query: '?up_locale=ko_KR' });
  await boot(up.win, up.doc);
  assert.equal(up.root.querySelector('label[for="cc-target"]').textContent, '대상');
  const fr = page({ query: '?up_locale=fr_FR' });
  await boot(fr.win, fr.doc);
  assert.equal(fr.root.querySelector('button[type="submit"]').textContent, 'Test');
});

test('finesse.js hooks: the tab becoming visible resizes the gadget; the role is reported', async () => {
  const handlers = {};
  let activeTabAsked = false;
  const adjusted = [];
  const finesse = {
    gadget: { Config: { locale: 'en_US', id: '1001', extension: '5001' } },
    clientservices: { ClientServices: { init: () => {} } },
    restservices: { User: function User({ onLoad }) { onLoad({ hasSupervisorRole: () => true }); } },
    containerservices: { ContainerServices: { Topics: { ACTIVE_TAB: 'tab' }, init: () => ({ addHandler: (topic, fn) => { handlers[topic] = fn; }, makeActiveTabReq: () => { activeTabAsked = true; } }) } },
  };
  const posted = [];
  const fetch = targetsFetch([], {
    '/api/v1/targets': () => ({ targets: [{ id: 'finesse', kind: 'finesse', label: 'F', endpoints: [{ name: 'F', port: 8445, path: '/finesse/api/SystemInfo' }], request: { method: 'GET', headers: [], credentials: 'include' }, nodes: ['ok-f.example'] }] }),
    '/api/v1/results': (b) => { posted.push(...b); return { ids: [1] }; },
  });
  const p = page({ fetch, service: 'https://cc.example', win: { finesse, gadgets: { window: { adjustHeight: () => adjusted.push(1) } } } });
  await boot(p.win, p.doc);
  assert.ok(activeTabAsked);
  await new Promise((r) => setTimeout(r, 5));
  adjusted.length = 0;
  handlers.tab();
  await waitFor(() => adjusted.length === 1, 'adjustHeight on ACTIVE_TAB');
  await submit(p);
  assert.deepEqual([posted[0].agentId, posted[0].extension, posted[0].role], ['1001', '5001', 'Supervisor']);
});

test('a broken finesse.js or container does not stop the gadget', async () => {
  const throwing = () => { throw new Error('boom'); };
  const p = page({ win: { finesse: { gadget: {}, clientservices: { ClientServices: { init: throwing } }, containerservices: { ContainerServices: { init: throwing } } }, gadgets: { window: { adjustHeight: throwing, setTitle: throwing }, Prefs: throwing } } });
  await boot(p.win, p.doc);
  assert.equal(p.root.querySelectorAll('#cc-target option').length, 4);
});

test('one test at a time: the button says so without losing the focus', async () => {
  const calls = [];
  let release;
  const gate = new Promise((r) => { release = r; });
  const fetch = async (url, init) => {
    calls.push(url);
    await gate;
    return { status: 200 };
  };
  const p = page({ fetch, query: '?finesse=ok-f.example' });
  await boot(p.win, p.doc, { timeoutMs: 1000 });
  select(p, 'finesse');
  const button = p.root.querySelector('button[type="submit"]');
  fire(p.win, p.root.querySelector('form'), 'submit');
  await waitFor(() => calls.length === 2, 'the two requests');
  assert.equal(button.getAttribute('aria-disabled'), 'true');
  assert.equal(button.hasAttribute('disabled'), false);
  assert.equal(p.root.getAttribute('aria-busy'), 'true');
  fire(p.win, p.root.querySelector('form'), 'submit');
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(calls.length, 2, 'no second run');
  release();
  await waitFor(() => !p.root.hasAttribute('aria-busy'), 'the end');
  assert.equal(button.hasAttribute('aria-disabled'), false);
});

test('the role comes from the desktop configuration when it has one', async () => {
  const { environment } = await import('../gadget.js');
  const win = { location: new URL('https://f.example/gadgets/ifr?up_id=2002&up_extension=6002'), finesse: { gadget: { Config: { role: 'Agent', locale: 'nl_NL' } } } };
  assert.deepEqual(environment(win), { locale: 'nl_NL', agentId: '2002', extension: '6002', role: 'Agent' });
});

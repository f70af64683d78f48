import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  GADGET_VERSION, cacheBusted, checkAll, checkURL, clip, normalizeMethod, parseHeaderLines, placeholderHeaders, planChecks,
  reportText, toResultInput, validMethod,
} from '../check.js';
import { DEFAULT_TARGETS } from '../targets.js';

const cuic = DEFAULT_TARGETS[0];
const shape = cuic.request;

// fakeFetch answers the no-cors and the CORS request as told: 'ok' (a response), 'fail' (the
// TypeError every failure gives a page) or 'hang' (until aborted).
function fakeFetch(plain, cors, calls = []) {
  return (url, init) => {
    calls.push({ url, init });
    const how = init.mode === 'no-cors' ? plain : cors;
    if (how === 'ok') return Promise.resolve({ status: 200, body: { cancel: async () => {} } });
    if (how === 'fail') return Promise.reject(new TypeError('Failed to fetch'));
    return new Promise((_, reject) => init.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))));
  };
}

test('classification: the CORS answer decides, the no-cors one tells blocked from unreachable', async () => {
  const table = [
    // no-cors, cors, verdict, timed out
    ['ok', 'ok', 'allowed', false],
    ['fail', 'ok', 'allowed', false],
    ['ok', 'fail', 'blocked', false],
    ['fail', 'fail', 'unreachable', false],
    ['hang', 'hang', 'unreachable', true],
    ['ok', 'hang', 'unreachable', true],
    ['hang', 'fail', 'unreachable', true],
  ];
  for (const [plain, cors, verdict, timedOut] of table) {
    const r = await checkURL(fakeFetch(plain, cors), 'https://cuic.example:8444/cuic/rest/status/', shape, { timeoutMs: 30 });
    assert.equal(r.verdict, verdict, `${plain}/${cors}`);
    assert.equal(r.timedOut, timedOut, `${plain}/${cors}`);
    assert.ok(['allowed', 'blocked', 'unreachable'].includes(r.verdict));
    assert.equal(typeof r.ms, 'number');
    if (verdict === 'allowed') assert.deepEqual([r.corsStatus, r.error], [200, '']);
    else assert.equal(r.corsStatus, 0);
  }
  const blocked = await checkURL(fakeFetch('ok', 'fail'), 'https://x.example/', shape, { timeoutMs: 30 });
  assert.equal(blocked.error, 'TypeError: Failed to fetch');
  const slow = await checkURL(fakeFetch('ok', 'hang'), 'https://x.example/', shape, { timeoutMs: 30 });
  assert.match(slow.error, /no answer within 30 ms/);
});

test('the two requests: no-cors without credentials, and the CORS one shaped like the gadget', async () => {
  const calls = [];
  await checkURL(fakeFetch('ok', 'fail', calls), 'https://cuic.example:8444/cuic/rest/status/', shape, { timeoutMs: 50, token: 't1' });
  const plain = calls.find((c) => c.init.mode === 'no-cors');
  const cors = calls.find((c) => c.init.mode === 'cors');
  assert.equal(plain.url, 'https://cuic.example:8444/cuic/rest/status/');
  assert.deepEqual([plain.init.cache, plain.init.credentials], ['no-store', 'omit']);
  assert.equal(cors.url, 'https://cuic.example:8444/cuic/rest/status/?corscheck=t1');
  assert.equal(cors.init.method, 'GET');
  assert.equal(cors.init.cache, 'no-store');
  assert.equal(cors.init.credentials, 'include');
  assert.deepEqual(cors.init.headers, [['Authorization', 'Basic Y29yc2NoZWNrOnByb2Jl'], ['locale', 'en_US'], ['peripheralid', '5000']]);
  assert.ok(cors.init.signal && plain.init.signal && cors.init.signal !== plain.init.signal);
});

test('a thrown fetch (e.g. a bad header) is a failed request, not a crash', async () => {
  const r = await checkURL(() => { throw new TypeError('Invalid name'); }, 'https://x.example/', shape, { timeoutMs: 30 });
  assert.equal(r.verdict, 'unreachable');
  assert.equal(r.error, 'TypeError: Invalid name');
});

test('the cache-busting parameter joins any query and keeps the fragment', () => {
  const cases = [
    ['https://h/p', 'https://h/p?corscheck=a'],
    ['https://h/p?x=1', 'https://h/p?x=1&corscheck=a'],
    ['https://h/p?', 'https://h/p?corscheck=a'],
    ['https://h/p?x=1&', 'https://h/p?x=1&corscheck=a'],
    ['https://h/p#frag', 'https://h/p?corscheck=a#frag'],
    ['https://h/p?x=a%20b#f?g', 'https://h/p?x=a%20b&corscheck=a#f?g'],
  ];
  for (const [url, want] of cases) assert.equal(cacheBusted(url, 'a'), want);
  assert.equal(cacheBusted('https://h/', 'a b&c'), 'https://h/?corscheck=a%20b%26c');
});

test('every node and endpoint runs at once, with progress', async () => {
  const plan = planChecks(DEFAULT_TARGETS[1], ['ld1.example', 'ld2.example', 'ld3.example']);
  assert.deepEqual(plan.map((c) => c.url), [
    'https://ld1.example:12005/', 'https://ld1.example:12008/socket.io/',
    'https://ld2.example:12005/', 'https://ld2.example:12008/socket.io/',
    'https://ld3.example:12005/', 'https://ld3.example:12008/socket.io/',
  ]);
  assert.ok(plan.every((c) => c.kind === 'livedata'));
  let inFlight = 0;
  let most = 0;
  const slow = (url, init) => {
    most = Math.max(most, ++inFlight);
    return new Promise((resolve) => setTimeout(() => { inFlight--; resolve({ status: 204 }); }, 40));
  };
  const progress = [];
  const start = Date.now();
  const checks = await checkAll(slow, plan, DEFAULT_TARGETS[1].request, { timeoutMs: 1000, onProgress: (done, total) => progress.push(`${done}/${total}`) });
  assert.ok(Date.now() - start < 200, 'about as long as the slowest check');
  assert.equal(most, 12, 'both requests of all six checks were in flight together');
  assert.deepEqual(progress, ['1/6', '2/6', '3/6', '4/6', '5/6', '6/6']);
  assert.deepEqual(checks.map((c) => c.node), plan.map((c) => c.node), 'results keep the plan order');
  assert.ok(checks.every((c) => c.verdict === 'allowed' && c.shape === DEFAULT_TARGETS[1].request));
});

test('a custom target checks its one URL; the node is the URL host', () => {
  assert.deepEqual(planChecks(DEFAULT_TARGETS[3], [], [], 'https://[2001:db8::5]:8443/x'), [
    { kind: 'custom', node: '2001:db8::5', url: 'https://[2001:db8::5]:8443/x' },
  ]);
});

// The field names of a Go struct, from its json tags.
function goFields(file, struct) {
  const src = readFileSync(new URL(`../../server/api/${file}`, import.meta.url), 'utf8');
  const body = src.slice(src.indexOf(`type ${struct} struct {`)).split('\n}')[0];
  return [...body.matchAll(/json:"([^",]+)/g)].map((m) => m[1]);
}

test('a result maps to the service\'s ResultInput, field for field and rule for rule', () => {
  const check = {
    kind: 'cuic', node: 'CUICSub.Example.com', url: 'https://cuicsub.example.com:8444/cuic/rest/status/',
    shape: { method: 'get', headers: [{ name: 'Authorization', value: 'secret' }, { name: 'PeripheralID', value: '1' }], credentials: 'include' },
    verdict: 'blocked', ms: 812.34, error: 'TypeError: Failed\nto fetch\u0000', corsStatus: 0,
  };
  const time = new Date('2026-11-23T09:30:00.123Z');
  const got = toResultInput(check, {
    pageOrigin: 'https://finesse.example:8445', userAgent: 'UA\t1', agentId: '1001', extension: '5001', role: 'Agent', time,
  });
  assert.deepEqual(Object.keys(got).sort(), goFields('results.go', 'ResultInput').sort());
  assert.deepEqual(got, {
    gadgetVersion: got.gadgetVersion, pageOrigin: 'https://finesse.example:8445', targetKind: 'cuic',
    node: 'cuicsub.example.com', url: 'https://cuicsub.example.com:8444/cuic/rest/status/', method: 'GET',
    headerNames: ['authorization', 'peripheralid'], credentials: 'include', verdict: 'blocked',
    browserError: 'TypeError: Failed to fetch ', durationMs: 812.34, userAgent: 'UA 1', agentId: '1001',
    extension: '5001', role: 'Agent', clientTime: '2026-11-23T09:30:00.123Z',
  });
  // 'devel' in the sources; corscheck gadget build puts its own version there (gadget/build.go).
  assert.equal(got.gadgetVersion, GADGET_VERSION);
  assert.equal(GADGET_VERSION, 'devel');
  assert.ok(!JSON.stringify(got).includes('secret'), 'header values are never reported');
  const long = toResultInput({ ...check, ms: 9e9, error: 'é'.repeat(400) }, { pageOrigin: 'https://f.example', agentId: 'x'.repeat(99) });
  assert.equal(long.durationMs, 600000);
  assert.ok(new TextEncoder().encode(long.browserError).length <= 500);
  assert.equal(long.agentId.length, 64);
  assert.equal(long.userAgent, '');
});

test('methods are normalized as fetch() does; forbidden ones refused', () => {
  assert.equal(normalizeMethod('get'), 'GET');
  assert.equal(normalizeMethod('Delete'), 'DELETE');
  assert.equal(normalizeMethod('patch'), 'patch');
  assert.ok(validMethod('PATCH') && validMethod('get'));
  for (const m of ['CONNECT', 'trace', 'Track', '', 'GE T', 'GET\n']) assert.ok(!validMethod(m), m);
});

test('header lines parse to names and values; errors say which line', () => {
  const got = parseHeaderLines('Authorization: Bearer a:b\n\n X-Trace : 1 \nbad line\nCookie: a=b\n: empty\nSec-Fetch-Mode: cors');
  assert.deepEqual(got.headers, [{ name: 'Authorization', value: 'Bearer a:b' }, { name: 'X-Trace', value: '1' }]);
  assert.deepEqual(got.errors, [{ line: 4 }, { line: 5, name: 'Cookie' }, { line: 6 }, { line: 7, name: 'Sec-Fetch-Mode' }]);
});

test('typed header values stay in the browser unless they decide the preflight', () => {
  const hs = [{ name: 'Authorization', value: 'Bearer real' }, { name: 'Content-Type', value: 'application/json' }];
  assert.deepEqual(placeholderHeaders(hs, true), [{ name: 'Authorization', value: 'corscheck' }, { name: 'Content-Type', value: 'application/json' }]);
  assert.deepEqual(placeholderHeaders(cuic.request.headers, false), cuic.request.headers);
});

test('clip keeps printable text within a byte limit', () => {
  assert.equal(clip('a\u2028b\u0085c', 10), 'a b c');
  // The service refuses characters that render as nothing: bidi controls, zero-width ones, fillers.
  assert.equal(clip('10\u202e01\u200b\u3164\u034f\ufe0f', 20), '1001');
  assert.equal(clip('한국어', 7), '한국');
  assert.equal(clip(undefined, 5), '');
});

test('the ticket report names the test: time, origin, target, request shape and agent; the results follow', () => {
  const t = (key, p = {}) => `${key}${Object.keys(p).length ? JSON.stringify(p) : ''}`;
  const text = reportText(t, {
    target: cuic, pageOrigin: 'https://finesse.example:8445', time: new Date('2026-11-23T09:30:00Z'), agentId: '1001', extension: '5001',
    checks: [{ node: 'cuicpub.example', url: 'https://cuicpub.example:8444/cuic/rest/status/', shape, verdict: 'allowed', ms: 12, corsStatus: 200, error: '' }],
  }, ['', '  allowed 12 ms, HTTP 200', '  https://cuicpub.example:8444/cuic/rest/status/']);
  for (const want of ['https://finesse.example:8445', cuic.label, '2026-11-23T09:30:00.000Z', '"agent":"1001"', '"extension":"5001"',
    'authorization, locale, peripheralid']) {
    assert.ok(text.includes(want), want);
  }
  assert.ok(text.endsWith('\n\n  allowed 12 ms, HTTP 200\n  https://cuicpub.example:8444/cuic/rest/status/'));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createService } from '../service.js';
import { DEFAULT_TARGETS } from '../targets.js';

// answer makes a fetch that records its calls and answers with status and JSON body.
function answer(status, body, calls = []) {
  return async (url, init) => {
    calls.push({ url, init, body: init.body && JSON.parse(init.body) });
    return { ok: status >= 200 && status < 300, status, json: async () => (typeof body === 'function' ? body(url, init) : body) };
  };
}

const goTags = (file, struct) => {
  const src = readFileSync(new URL(`../../server/api/${file}`, import.meta.url), 'utf8');
  return [...src.slice(src.indexOf(`type ${struct} struct {`)).split('\n}')[0].matchAll(/json:"([^",]+)/g)].map((m) => m[1]);
};

test('without a service the gadget keeps the built-in targets and calls nothing', async () => {
  const calls = [];
  const s = createService(answer(200, {}, calls), '');
  assert.equal(s.configured, false);
  assert.deepEqual(await s.loadTargets(), { targets: DEFAULT_TARGETS, source: 'builtin' });
  assert.deepEqual(await s.postResults([{}]), []);
  assert.equal(calls.length, 0);
});

test('the catalogue comes from GET /api/v1/targets', async () => {
  const calls = [];
  // Validated by the service, which sends every list as an array, never null.
  const catalogue = { targets: [{ id: 'cuic', kind: 'cuic', label: 'CUIC', endpoints: [{ name: 'e', port: 443, path: '/' }], request: { method: 'GET', headers: [], credentials: 'include' }, nodes: ['pub.example'] }] };
  const got = await createService(answer(200, catalogue, calls), 'https://cc.example:8443').loadTargets();
  assert.equal(got.source, 'service');
  assert.deepEqual(got.targets, catalogue.targets);
  assert.equal(calls[0].url, 'https://cc.example:8443/api/v1/targets');
  assert.deepEqual([calls[0].init.method, calls[0].init.mode, calls[0].init.credentials], ['GET', 'cors', 'omit']);
});

test('any failure to load the catalogue falls back to the built-in targets, with the reason', async () => {
  const failing = [
    [async () => { throw new TypeError('Failed to fetch'); }, /Failed to fetch/],
    [answer(500, { error: 'internal error; the service log has the details' }), /internal error/],
    [answer(200, { targets: [] }), /no usable target/],
    [answer(200, null), /no usable target/],
    [async () => ({ ok: true, status: 200, json: async () => { throw new SyntaxError('Unexpected token <'); } }), /no usable target/],
    [(url, init) => new Promise((_, reject) => init.signal.addEventListener('abort', () => reject(new Error('aborted')))), /no answer within 0.02 s/],
  ];
  for (const [fetchFn, why] of failing) {
    const got = await createService(fetchFn, 'https://cc.example', { timeoutMs: 20 }).loadTargets();
    assert.equal(got.source, 'fallback');
    assert.equal(got.targets, DEFAULT_TARGETS);
    assert.match(got.error, why);
  }
});

test('results go in one JSON batch per test, in batches of at most 100', async () => {
  const calls = [];
  let next = 1;
  const s = createService(answer(201, (url, init) => ({ ids: JSON.parse(init.body).map(() => next++) }), calls), 'https://cc.example');
  const inputs = Array.from({ length: 3 }, (_, i) => ({ node: `n${i}.example` }));
  assert.deepEqual(await s.postResults(inputs), [1, 2, 3]);
  assert.equal(calls.length, 1);
  assert.equal(calls[0].url, 'https://cc.example/api/v1/results');
  assert.equal(calls[0].init.method, 'POST');
  assert.equal(calls[0].init.headers['Content-Type'], 'application/json');
  assert.deepEqual(calls[0].body, inputs);
  const many = Array.from({ length: 150 }, () => ({}));
  assert.equal((await s.postResults(many)).length, 150);
  assert.deepEqual(calls.slice(1).map((c) => c.body.length), [100, 50]);
});

test('a refused batch says why, with the fields the service names', async () => {
  const s = createService(answer(400, { error: 'invalid result', fields: { '[0].pageOrigin': 'must equal the Origin the browser sent' } }), 'https://cc.example');
  await assert.rejects(s.postResults([{}]), /invalid result: \[0\]\.pageOrigin must equal the Origin/);
});

test('a diagnosis request carries the shape with placeholder values and the language, and returns the report', async () => {
  const calls = [];
  const report = { verdict: 'blocked', corsError: 'PreflightMissingAllowOriginHeader', fixes: [] };
  const s = createService(answer(200, { id: 7, report }, calls), 'https://cc.example', { lang: 'nl' });
  const check = {
    kind: 'custom', url: 'https://api.example/x', verdict: 'blocked',
    shape: { method: 'post', headers: [{ name: 'Authorization', value: 'Bearer REAL-TOKEN' }, { name: 'Content-Type', value: 'application/json' }], credentials: 'include', typed: true },
  };
  assert.deepEqual(await s.diagnose(check, 'https://finesse.example:8445', 12), report);
  const body = calls[0].body;
  assert.equal(calls[0].url, 'https://cc.example/api/v1/diagnose');
  assert.deepEqual(Object.keys(body).sort(), goTags('diagnose.go', 'DiagnoseInput').sort());
  assert.deepEqual(body, {
    url: 'https://api.example/x', origin: 'https://finesse.example:8445', kind: 'custom', method: 'POST',
    headers: [{ name: 'Authorization', value: 'corscheck' }, { name: 'Content-Type', value: 'application/json' }],
    credentials: 'include', resultId: 12, lang: 'nl',
  });
  assert.ok(!calls[0].init.body.includes('REAL-TOKEN'));
  const cuic = { kind: 'cuic', url: 'https://sub.example:8444/cuic/rest/status/', shape: DEFAULT_TARGETS[0].request };
  await s.diagnose(cuic, 'https://finesse.example:8445');
  assert.deepEqual(calls[1].body.headers, DEFAULT_TARGETS[0].request.headers, 'catalogue placeholders go as they are');
  assert.equal(calls[1].body.resultId, 0);
});

test('a diagnosis the service refuses is an error with its message', async () => {
  const s = createService(answer(403, { error: 'host x.example is not in the target catalogue' }), 'https://cc.example');
  await assert.rejects(s.diagnose({ kind: 'custom', url: 'https://x.example/', shape: { method: 'GET', headers: [] } }, 'https://f.example'), /not in the target catalogue/);
  const empty = createService(answer(200, {}), 'https://cc.example');
  await assert.rejects(empty.diagnose({ kind: 'custom', url: 'https://x.example/', shape: { method: 'GET' } }, 'https://f.example'), /no report/);
});

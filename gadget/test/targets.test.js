import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  DEFAULT_TARGETS, nodeDefaults, nodeURL, parseNodes, queryDefaults, serviceURL, validNode, validURL,
} from '../targets.js';

test('node URLs leave out 443 and bracket IPv6 addresses', () => {
  const cases = [
    ['cuicpub.example.com', { port: 8444, path: '/cuic/rest/status/' }, 'https://cuicpub.example.com:8444/cuic/rest/status/'],
    ['ld.example.com', { port: 443, path: '/socket.io/' }, 'https://ld.example.com/socket.io/'],
    ['2001:db8::10', { port: 12005, path: '/' }, 'https://[2001:db8::10]:12005/'],
    ['10.0.0.5', { port: 443, path: '/' }, 'https://10.0.0.5/'],
  ];
  for (const [node, ep, want] of cases) assert.equal(nodeURL(node, ep), want);
});

test('node lists split on commas and white space, keep each node once and refuse ports and paths', () => {
  assert.deepEqual(parseNodes('cuicpub.example.com, CUICSUB.example.com  cuicpub.example.com;\n10.0.0.1'), {
    nodes: ['cuicpub.example.com', 'cuicsub.example.com', '10.0.0.1'], invalid: [],
  });
  assert.deepEqual(parseNodes('cuic.example.com:8444 https://cuic.example.com cuic.example.com/x -bad.example a..b'), {
    nodes: [], invalid: ['cuic.example.com:8444', 'https://cuic.example.com', 'cuic.example.com/x', '-bad.example', 'a..b'],
  });
  assert.deepEqual(parseNodes(''), { nodes: [], invalid: [] });
  assert.deepEqual(parseNodes('[2001:DB8::1] 2001:db8::1 ::1'), { nodes: ['2001:db8::1', '::1'], invalid: [] });
});

test('node validation follows targets.ValidNode', () => {
  const valid = ['cuic', 'cuic-a.example.com', 'under_score.example', 'a.example.', '192.168.1.10', '::1', `${'a'.repeat(63)}.example`];
  const invalid = ['', 'a b', `${'a'.repeat(64)}.example`, 'x'.repeat(254), 'host:8444', 'bad-.example', 'ex ample', 'a/b', '<img src=x onerror=alert(1)>', 'fe80::1%eth0'];
  for (const n of valid) assert.ok(validNode(n), n);
  for (const n of invalid) assert.equal(validNode(n), '', n);
});

test('the built-in catalogue is the one in server/targets', () => {
  const go = readFileSync(new URL('../../server/targets/targets.go', import.meta.url), 'utf8');
  assert.deepEqual(DEFAULT_TARGETS.map((t) => t.id), ['cuic', 'livedata', 'finesse', 'custom']);
  for (const t of DEFAULT_TARGETS) {
    assert.ok(go.includes(`ID: "${t.id}"`) && go.includes(`Label: "${t.label}"`), t.id);
    for (const e of t.endpoints) assert.ok(go.includes(`{Name: "${e.name}", Port: ${e.port}, Path: "${e.path}"}`), e.name);
    for (const h of t.request.headers) assert.ok(go.includes(`{Name: "${h.name}", Value: "${h.value}"}`), h.name);
    if (t.notes) assert.ok(go.includes(`"${t.notes}"`), t.notes);
  }
  assert.equal(nodeURL('cuicsub.example.com', DEFAULT_TARGETS[0].endpoints[0]), 'https://cuicsub.example.com:8444/cuic/rest/status/');
});

test('defaults come from the gadget URL in the layout, its urlPrefs or the iframe query', () => {
  const spec = 'https://fin.example:8445/3rdpartygadget/files/TestCORSgadget.xml?cuic=pub.example,sub.example&target=cuic';
  const ifr = `https://fin.example:8445/gadgets/ifr?mid=1&url=${encodeURIComponent(spec)}&up_urlPrefs=${encodeURIComponent('{"livedata":"ld1.example","port":"8445"}')}`;
  const q = queryDefaults(ifr);
  assert.equal(q.cuic, 'pub.example,sub.example');
  assert.equal(q.target, 'cuic');
  assert.equal(q.livedata, 'ld1.example');
  assert.deepEqual(queryDefaults('http://127.0.0.1:9/sim?finesse=f1.example&service=https%3A%2F%2Fcc.example%3A8443%2F'), {
    finesse: 'f1.example', service: 'https://cc.example:8443/',
  });
  assert.deepEqual(queryDefaults('not a url'), {});
  assert.equal(queryDefaults('https://x/ifr?up_urlPrefs=%7Bbroken&url=%3A&cuic=a').cuic, 'a', 'a broken pref or url is skipped');
  const nodes = nodeDefaults(DEFAULT_TARGETS, q, { cuic: 'baked.example', finesse: 'fa.example fb.example' });
  assert.deepEqual(nodes.cuic, ['pub.example', 'sub.example']);
  assert.deepEqual(nodes.livedata, ['ld1.example']);
  assert.deepEqual(nodes.finesse, ['fa.example', 'fb.example']);
  assert.deepEqual(nodes.custom, []);
});

test('the service URL must be absolute http(s); the build placeholder means none', () => {
  assert.equal(serviceURL('https://corscheck.example:8443/'), 'https://corscheck.example:8443');
  assert.equal(serviceURL(' https://corscheck.example/base/ '), 'https://corscheck.example/base');
  for (const v of ['__CORSCHECK_SERVICE__', '', undefined, 'javascript:alert(1)', 'https://u:p@x.example', '/relative']) {
    assert.equal(serviceURL(v), '', String(v));
  }
});

test('custom URLs are absolute http(s) without user information', () => {
  assert.equal(validURL('https://cuic.example.com:8444/a b?x=1'), 'https://cuic.example.com:8444/a%20b?x=1');
  for (const v of ['ftp://x/', 'https://user:pw@x/', 'cuic.example.com', `https://x/${'a'.repeat(2050)}`]) assert.equal(validURL(v), '', v);
});

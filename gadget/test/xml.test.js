import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';

const xml = readFileSync(new URL('../../TestCORSgadget.xml', import.meta.url), 'utf8');

// parseXML checks that a document is well-formed (one root, tags nested and closed, attributes
// quoted, no "--" in comments) and returns its elements as {name, attrs, text, children}.
function parseXML(src) {
  const root = { name: '#document', attrs: {}, text: '', children: [] };
  const stack = [root];
  const token = /<\?[\s\S]*?\?>|<!--([\s\S]*?)-->|<!\[CDATA\[([\s\S]*?)\]\]>|<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[\w.:-]+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>|([^<]+)|(<)/g;
  for (const m of src.matchAll(token)) {
    const [, comment, cdata, close, name, attrs, selfClose, text, stray] = m;
    const top = stack[stack.length - 1];
    if (stray) throw new Error(`stray < at ${m.index}`);
    if (comment !== undefined) {
      if (comment.includes('--')) throw new Error('"--" in a comment');
    } else if (cdata !== undefined) {
      top.text += cdata;
    } else if (text !== undefined) {
      if (stack.length === 1 && text.trim()) throw new Error('text outside the root');
      top.text += text;
    } else if (name && close) {
      if (top.name !== name) throw new Error(`</${name}> closes <${top.name}>`);
      stack.pop();
    } else if (name) {
      const el = { name, attrs: Object.fromEntries([...attrs.matchAll(/([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)].map((a) => [a[1], a[2] ?? a[3]])), text: '', children: [] };
      if (stack.length === 1 && root.children.length) throw new Error('two roots');
      top.children.push(el);
      if (!selfClose) stack.push(el);
    }
  }
  if (stack.length !== 1) throw new Error(`<${stack[stack.length - 1].name}> is not closed`);
  return root.children[0];
}

const find = (el, name) => [el, ...el.children.flatMap((c) => find(c, name))].filter((e) => e.name === name);

test('the checker refuses malformed XML', () => {
  for (const bad of ['<a><b></a>', '<a>', '<a/><b/>', '<a x=1/>', '<a><!-- x -- y --></a>', '<a>1 < 2</a>']) {
    assert.throws(() => parseXML(bad), bad);
  }
});

const module = parseXML(xml);
const content = find(module, 'Content')[0];

test('the gadget spec is an OpenSocial module with the features Finesse needs', () => {
  assert.ok(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>'));
  assert.equal(module.name, 'Module');
  const prefs = find(module, 'ModulePrefs')[0];
  assert.equal(prefs.attrs.title, 'CORS Quick Check');
  const features = find(prefs, 'Require').map((r) => r.attrs.feature).sort();
  assert.deepEqual(features, ['dynamic-height', 'pubsub-2', 'setprefs', 'settitle']);
  const userPrefs = Object.fromEntries(find(module, 'UserPref').map((u) => [u.attrs.name, u.attrs.datatype]));
  assert.deepEqual(userPrefs, { scheme: 'hidden', host: 'hidden', hostPort: 'hidden', locale: 'hidden' });
  assert.equal(content.attrs.type, 'html');
  assert.ok(!xml.includes('localhost'), 'no leftovers from samples');
});

test('the content starts through start.js (filled in by the build) and carries the build placeholders', () => {
  const html = content.text;
  // start.js (start.test.js) loads gadget.css and gadget.js and starts on the hub connection;
  // the Go build bundles it into this element (gadget/build_test.go).
  assert.match(html, /<script>__CORSCHECK_START__<\/script>/);
  assert.match(html, /data-service="__CORSCHECK_SERVICE__"/);
  assert.match(html, /data-defaults="__CORSCHECK_DEFAULTS__"/);
  assert.match(html, /__UP_scheme__:\/\/__UP_host__:__UP_hostPort__\/desktop\/assets\/js\/finesse\.min\.js/);
  assert.ok(!/\balert\(|\bconfirm\(|\bprompt\(/.test(html));
  assert.equal([...html.matchAll(/<script>/g)].length, 1, 'no other inline script');
});

test('gadget code never uses alert(), innerHTML or document.write', () => {
  const dir = new URL('../', import.meta.url);
  for (const f of readdirSync(dir).filter((x) => /\.(js|css)$/.test(x))) {
    const src = readFileSync(new URL(f, dir), 'utf8');
    assert.ok(!/\b(alert|confirm|prompt)\(|innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(/.test(src), f);
  }
});

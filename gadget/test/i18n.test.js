import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { LANGUAGES, loadCatalog, pickLocale, translator } from '../i18n.js';

const catalogs = Object.fromEntries(await Promise.all(LANGUAGES.map(async (l) => [l, await loadCatalog(l)])));
const placeholders = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

test('there is a catalog file for every language and no other', () => {
  const files = readdirSync(new URL('../messages/', import.meta.url)).map((f) => f.replace(/\.js$/, '')).sort();
  assert.deepEqual(files, [...LANGUAGES].sort());
});

for (const lang of LANGUAGES.filter((l) => l !== 'en')) {
  test(`the ${lang} catalog has every English key, no other, and the same placeholders`, () => {
    const en = catalogs.en;
    const cat = catalogs[lang];
    assert.deepEqual(Object.keys(en).filter((k) => !(k in cat)), [], 'missing keys');
    assert.deepEqual(Object.keys(cat).filter((k) => !(k in en)), [], 'extra keys');
    for (const k of Object.keys(en)) {
      assert.equal(typeof cat[k], 'string', k);
      assert.ok(cat[k].trim(), `${k} is empty`);
      assert.deepEqual(placeholders(cat[k]), placeholders(en[k]), `placeholders of ${k}`);
    }
  });

  test(`the ${lang} catalog is a translation, not a copy`, () => {
    const keys = Object.keys(catalogs.en);
    const same = keys.filter((k) => catalogs[lang][k] === catalogs.en[k]);
    // Product names, units and the like stay as they are; sentences do not.
    assert.ok(same.length <= 12, `${same.length} strings equal English: ${same.join(', ')}`);
    for (const k of keys.filter((x) => /^(err|hint)[A-Z]/.test(x))) assert.notEqual(catalogs[lang][k], catalogs.en[k], k);
  });
}

test('the Korean catalog is written in Hangul', () => {
  const hangul = Object.values(catalogs.ko).filter((s) => /[\uac00-\ud7a3]/.test(s));
  assert.ok(hangul.length >= Object.keys(catalogs.ko).length - 12);
});

test('every key the code uses is in the English catalog', () => {
  const dir = new URL('../', import.meta.url);
  const src = readdirSync(dir).filter((f) => f.endsWith('.js')).map((f) => readFileSync(new URL(f, dir), 'utf8')).join('\n');
  const used = new Set([...src.matchAll(/\bt\('([\w.-]+)'/g)].map((m) => m[1]));
  for (const v of ['pending', 'allowed', 'blocked', 'unreachable']) used.add(`verdict.${v}`);
  for (const c of ['include', 'same-origin', 'omit']) used.add(`cred.${c}`);
  used.add('label.custom'); // the other built-in labels are product names, never translated
  for (const id of ['cuic', 'livedata']) used.add(`notes.${id}`);
  used.add('startFailed'); // start.js gets it from the build, not through t()
  assert.ok(used.size > 40, `found ${used.size} keys in the code`);
  assert.deepEqual([...used].filter((k) => !(k in catalogs.en)), []);
  assert.deepEqual(Object.keys(catalogs.en).filter((k) => !used.has(k)), [], 'keys no code uses');
});

test('the language comes from the Finesse locale, then the browser, else English', () => {
  const cases = [
    [['nl_NL'], 'nl'], [['ko_KR'], 'ko'], [['en_US'], 'en'], [['nl-BE'], 'nl'], [['KO'], 'ko'],
    [['fr_FR', 'nl-NL'], 'en'], [['', 'ko-KR'], 'ko'], [[undefined, undefined], 'en'], [[], 'en'],
    [['constructor'], 'en'], [['zh_CN'], 'en'],
  ];
  for (const [tags, want] of cases) assert.equal(pickLocale(...tags), want, JSON.stringify(tags));
});

test('placeholders are filled with text; unknown ones and unknown keys stay visible', () => {
  const t = translator({ a: 'Node {n} of {total}', b: '{x}{x}' });
  assert.equal(t('a', { n: 2, total: '<b>3</b>' }), 'Node 2 of <b>3</b>');
  assert.equal(t('a', { n: 1 }), 'Node 1 of {total}');
  assert.equal(t('b', { x: '$&' }), '$&$&');
  assert.equal(t('missing'), 'missing');
  assert.equal(translator(catalogs.nl)('done', { allowed: 1, blocked: 2, unreachable: 0 }), 'Klaar: 1 toegestaan, 2 geblokkeerd door CORS, 0 onbereikbaar.');
});

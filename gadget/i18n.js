// Messages in English, Dutch and Korean, chosen from the Finesse locale (e.g. "nl_NL"); any
// other language gets English. Only the chosen catalog is loaded.

// One import per catalog, spelled out so that the Go build (esbuild) makes each a chunk of its own.
const CATALOGS = {
  en: () => import('./messages/en.js'),
  nl: () => import('./messages/nl.js'),
  ko: () => import('./messages/ko.js'),
};

export const LANGUAGES = Object.keys(CATALOGS);

// pickLocale takes the first locale that is set (Finesse's, then the browser's) and returns the
// language of its catalog, or 'en'.
export function pickLocale(...tags) {
  const lang = String(tags.find(Boolean) || '').toLowerCase().split(/[-_]/)[0];
  return LANGUAGES.includes(lang) ? lang : 'en';
}

// loadCatalog loads the catalog of a language pickLocale returned.
export const loadCatalog = async (lang) => (await CATALOGS[lang]()).default;

// translator returns t(key, {placeholder: value}). Every catalog has every key (a test says
// so); an unknown key shows as itself.
export const translator = (catalog) => (key, params = {}) => (catalog[key] ?? key)
  .replace(/\{(\w+)\}/g, (m, name) => (Object.hasOwn(params, name) ? String(params[name]) : m));

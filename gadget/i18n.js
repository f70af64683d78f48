// Messages in English, Dutch and Korean, chosen from the Finesse locale (e.g. "nl_NL"); any
// other language gets English. Only the chosen catalog is loaded.

export { LANGUAGES, pickLocale } from './locale.js';

// One import per language of LANGUAGES, spelled out so that the Go build (esbuild) makes each
// catalog a chunk of its own.
const CATALOGS = {
  en: () => import('./messages/en.js'),
  nl: () => import('./messages/nl.js'),
  ko: () => import('./messages/ko.js'),
};

// loadCatalog loads the catalog of a language pickLocale returned.
export const loadCatalog = async (lang) => (await CATALOGS[lang]()).default;

// translator returns t(key, {placeholder: value}). Every catalog has every key (a test says
// so); an unknown key shows as itself.
export const translator = (catalog) => (key, params = {}) => (catalog[key] ?? key)
  .replace(/\{(\w+)\}/g, (m, name) => (Object.hasOwn(params, name) ? String(params[name]) : m));

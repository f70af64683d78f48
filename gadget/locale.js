// The languages the gadget speaks and the choice among them, apart from the catalogs themselves
// so that the start-up script (start.js) can choose without loading any catalog.

export const LANGUAGES = ['en', 'nl', 'ko'];

// pickLocale takes the first locale that is set (Finesse's, then the browser's) and returns the
// language of its catalog, or 'en'.
export function pickLocale(...tags) {
  const lang = String(tags.find(Boolean) || '').toLowerCase().split(/[-_]/)[0];
  return LANGUAGES.includes(lang) ? lang : 'en';
}

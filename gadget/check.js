// One check is what a gadget on this page would see when it calls a URL: two requests at once,
// a no-cors one (does the host answer at all, is its certificate trusted) and one shaped like the
// real gadget's. fetch is passed in.

import { isToken, nodeURL } from './targets.js';

export const TITLE = 'CORS Quick Check';
export const GADGET_VERSION = 'devel';

// fetch() upper-cases these methods only, whatever their case; others go out as written.
export function normalizeMethod(m) {
  const u = m.toUpperCase();
  return ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT'].includes(u) ? u : m;
}

// validMethod is a method fetch() sends: a token, and not CONNECT, TRACE or TRACK.
export const validMethod = (m) => isToken(m) && !['CONNECT', 'TRACE', 'TRACK'].includes(m.toUpperCase());

// cacheBusted adds a parameter that no cache (HTTP or preflight) has seen, keeping the query
// and fragment as they are.
export function cacheBusted(url, token) {
  const [base, ...fragment] = url.split('#');
  const sep = !base.includes('?') ? '?' : /[?&]$/.test(base) ? '' : '&';
  return [`${base}${sep}corscheck=${encodeURIComponent(token)}`, ...fragment].join('#');
}

// fetch() silently drops these request headers (Fetch standard, plus user-agent in Chromium).
const FORBIDDEN = new RegExp('^(accept-(charset|encoding)|access-control-request-(headers|method)|connection|' +
  'content-length|cookie2?|date|dnt|expect|host|keep-alive|origin|referer|set-cookie|te|trailer|transfer-encoding|' +
  'upgrade|via|user-agent|proxy-.*|sec-.*)$', 'i');

// parseHeaderLines reads "Name: value" lines; errors say which line (1-based) is wrong and, for
// a header the browser does not let a page set, which one.
export function parseHeaderLines(text) {
  const headers = [];
  const errors = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim();
    if (colon < 1 || !isToken(name)) errors.push({ line: i + 1 });
    else if (FORBIDDEN.test(name)) errors.push({ line: i + 1, name });
    else headers.push({ name, value: line.slice(colon + 1).trim() });
  });
  return { headers, errors };
}

// checkURL classifies one URL: the CORS request answered → allowed; only the no-cors one
// answered → blocked by CORS; neither (or no answer in time) → unreachable, never a CORS failure.
export async function checkURL(fetchFn, url, shape, opts = {}) {
  const { timeoutMs = 10000, token = Math.random().toString(36).slice(2) } = opts;
  const start = performance.now();
  const plain = new AbortController();
  const cors = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    plain.abort();
    cors.abort();
  }, timeoutMs);
  // async: a fetch that throws (e.g. on a bad header) fails like one that rejects.
  const send = async (u, init) => fetchFn(u, { ...init, cache: 'no-store' });
  const reach = send(url, { mode: 'no-cors', credentials: 'omit', signal: plain.signal }).then(() => true, () => false);
  let res = null;
  let error = '';
  try {
    res = await send(cacheBusted(url, token), {
      method: shape.method, headers: shape.headers.map((h) => [h.name, h.value]), credentials: shape.credentials,
      mode: 'cors', signal: cors.signal,
    });
    plain.abort(); // the answer is known; do not wait for the reachability request
    res.body?.cancel().catch(() => {});
  } catch (e) {
    error = timedOut ? `TimeoutError: no answer within ${timeoutMs} ms` : `${e.name}: ${e.message}`;
  }
  const ms = Math.round(performance.now() - start);
  // A CORS request cut off by the timeout got no answer: that is never a CORS failure.
  const verdict = res ? 'allowed' : !timedOut && (await reach) ? 'blocked' : 'unreachable';
  clearTimeout(timer);
  return { verdict, ms, error, corsStatus: res?.status || 0, timedOut };
}

// planChecks lists the checks of a test: every node × endpoint of the target, or the one URL of
// a target without endpoints (custom).
export function planChecks(target, nodes, endpoints = target.endpoints, customURL = '') {
  const { kind } = target;
  if (!endpoints.length) return [{ kind, node: new URL(customURL).hostname.replace(/^\[|\]$/g, ''), url: customURL }];
  return nodes.flatMap((node) => endpoints.map((e) => ({ kind, node, url: nodeURL(node, e) })));
}

// checkAll runs the planned checks all at once, so a test takes about as long as its slowest
// node, and reports each one as it finishes.
export function checkAll(fetchFn, plan, shape, { onProgress, ...opts }) {
  let done = 0;
  return Promise.all(plan.map(async (c, i) => {
    const check = { ...c, shape, ...(await checkURL(fetchFn, c.url, shape, opts)) };
    onProgress(++done, plan.length, check, i);
    return check;
  }));
}

// clip keeps a value the service accepts: printable (control characters become spaces; those
// that render as nothing, such as bidi controls and zero-width ones, are dropped) and at most max
// UTF-8 bytes, cut on a character boundary.
export function clip(s, max) {
  // Cc: U+0000-U+001F and U+007F-U+009F; DI: Default_Ignorable_Code_Point.
  const text = String(s ?? '').replace(/[\p{Cf}\p{DI}]+/gu, '').replace(/[\p{Cc}\u2028\u2029]+/gu, ' ');
  // encodeInto writes whole characters only; read says how many UTF-16 units fit.
  return text.slice(0, new TextEncoder().encodeInto(text, new Uint8Array(max)).read);
}

// toResultInput maps a check to the service's ResultInput (server/api/results.go), field for
// field.
export function toResultInput(check, ctx) {
  const { shape } = check;
  return {
    gadgetVersion: GADGET_VERSION,
    pageOrigin: ctx.pageOrigin,
    targetKind: check.kind,
    node: check.node.toLowerCase(),
    url: check.url,
    method: normalizeMethod(shape.method),
    headerNames: shape.headers.map((h) => h.name.toLowerCase()),
    credentials: shape.credentials,
    verdict: check.verdict,
    browserError: clip(check.error, 500),
    durationMs: Math.min(600000, check.ms),
    userAgent: clip(ctx.userAgent, 512),
    agentId: clip(ctx.agentId, 64),
    extension: clip(ctx.extension, 32),
    role: clip(ctx.role, 32),
    clientTime: (ctx.time || new Date()).toISOString(),
  };
}

// Header values the service may send to a target when it repeats a check: the catalogue's are
// placeholders already; for values typed in a custom target only those that change whether a
// request needs a preflight are kept, so real credentials never leave the browser.
const VALUE_MATTERS = ['accept', 'accept-language', 'content-language', 'content-type', 'range'];
export function placeholderHeaders(headers = [], typed) {
  return headers.map(({ name, value }) => ({
    name,
    value: !typed || VALUE_MATTERS.includes(name.toLowerCase()) ? value : 'corscheck',
  }));
}

// timing is how long a check took and, when the CORS request was answered, its status.
export const timing = (c) => `${c.ms} ms${c.corsStatus ? `, HTTP ${c.corsStatus}` : ''}`;

// shapeText describes a request: method, credentials mode and header names.
export const shapeText = (t, { method, credentials, headers }) => t('shape', {
  method, credentials, headers: headers.map((h) => h.name.toLowerCase()).join(', ') || '-',
});

// reportText is the plain-text report for a ticket, in the user's language: what was tested,
// then the results, lines of text as the page shows them.
export function reportText(t, { checks, target, pageOrigin, time, agentId, extension }, results) {
  const lines = [
    `${TITLE} ${GADGET_VERSION}, ${time.toISOString()}`,
    `${t('origin')} ${pageOrigin}`,
    `${t('target')}: ${target.label}`,
    shapeText(t, checks[0].shape),
  ];
  if (agentId) lines.push(t('agent', { agent: agentId, extension: extension || '-' }));
  return [...lines, ...results].join('\n');
}

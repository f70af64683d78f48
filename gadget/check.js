// One check is what a gadget on this page would see when it calls a URL: two requests at once,
// a no-cors one (does the host answer at all, is its certificate trusted) and one shaped like the
// real gadget's. Everything here is pure: fetch, timers and clock are passed in.

import { isToken, nodeURL } from './targets.js';

export const GADGET_VERSION = '0.1.0';
export const VERDICTS = ['allowed', 'blocked', 'unreachable'];

// fetch() upper-cases these methods only, whatever their case; others go out as written.
const COMMON_METHODS = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT'];
export function normalizeMethod(m) {
  const u = String(m).toUpperCase();
  return COMMON_METHODS.includes(u) ? u : String(m);
}

// cacheBusted adds a parameter that no cache (HTTP or preflight) has seen, keeping the query
// and fragment as they are.
export function cacheBusted(url, token) {
  const hash = url.indexOf('#');
  const base = hash < 0 ? url : url.slice(0, hash);
  const sep = !base.includes('?') ? '?' : /[?&]$/.test(base) ? '' : '&';
  return `${base}${sep}corscheck=${encodeURIComponent(token)}${hash < 0 ? '' : url.slice(hash)}`;
}

// fetch() silently drops these request headers (Fetch standard, plus user-agent in Chromium).
const FORBIDDEN = new Set(('accept-charset accept-encoding access-control-request-headers access-control-request-method ' +
  'connection content-length cookie cookie2 date dnt expect host keep-alive origin referer set-cookie te trailer ' +
  'transfer-encoding upgrade via user-agent').split(' '));
export const forbiddenHeader = (name) => FORBIDDEN.has(name = name.toLowerCase()) || /^(proxy|sec)-/.test(name);

// parseHeaderLines reads "Name: value" lines; errors say which line (1-based) is wrong and why.
export function parseHeaderLines(text) {
  const headers = [];
  const errors = [];
  String(text ?? '').split(/\r?\n/).forEach((line, i) => {
    if (!line.trim()) return;
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim();
    if (colon < 1 || !isToken(name)) errors.push({ line: i + 1 });
    else if (forbiddenHeader(name)) errors.push({ line: i + 1, name });
    else headers.push({ name, value: line.slice(colon + 1).trim() });
  });
  return { headers, errors };
}

// validMethod is a method fetch() sends: a token, and not CONNECT, TRACE or TRACK.
export const validMethod = (m) => isToken(m) && !['CONNECT', 'TRACE', 'TRACK'].includes(m.toUpperCase());

const errorText = (e) => (e ? `${e.name || 'Error'}: ${e.message || e}` : '');

// checkURL classifies one URL: the CORS request answered → allowed; only the no-cors one
// answered → blocked by CORS; neither (or no answer in time) → unreachable, never a CORS failure.
export async function checkURL(fetchFn, url, shape, opts = {}) {
  const {
    timeoutMs = 10000, now = () => performance.now(),
    setTimer = setTimeout, clearTimer = clearTimeout, token = Math.random().toString(36).slice(2),
  } = opts;
  const start = now();
  const plain = new AbortController();
  const cors = new AbortController();
  let timedOut = false;
  const timer = setTimer(() => {
    timedOut = true;
    plain.abort();
    cors.abort();
  }, timeoutMs);
  const send = (u, init) => Promise.resolve().then(() => fetchFn(u, init));
  const reach = send(url, { mode: 'no-cors', cache: 'no-store', credentials: 'omit', signal: plain.signal })
    .then(() => true, () => false);
  const headers = (shape.headers || []).map((h) => [h.name, h.value]);
  let result;
  try {
    const res = await send(cacheBusted(url, token), {
      method: normalizeMethod(shape.method || 'GET'), headers, credentials: shape.credentials || 'same-origin',
      mode: 'cors', cache: 'no-store', signal: cors.signal,
    });
    result = { verdict: 'allowed', ms: now() - start, error: '', corsStatus: res.status, timedOut: false };
    plain.abort(); // the answer is known; do not wait for the reachability request
    res.body?.cancel?.().catch(() => {});
  } catch (e) {
    const ms = now() - start;
    // A CORS request cut off by the timeout got no answer: that is never a CORS failure.
    const error = timedOut ? `TimeoutError: no answer within ${timeoutMs} ms` : errorText(e);
    const reachable = !timedOut && (await reach);
    result = { verdict: reachable ? 'blocked' : 'unreachable', ms, error, corsStatus: 0, timedOut };
  } finally {
    clearTimer(timer);
  }
  result.ms = Math.round(result.ms * 10) / 10;
  return result;
}

// planChecks lists the checks of a test: every node × endpoint of the target, or the one URL of
// a target without endpoints (custom).
export function planChecks(target, nodes, endpoints = target.endpoints, customURL = '') {
  const { kind } = target;
  if (!endpoints.length) {
    const node = new URL(customURL).hostname.replace(/^\[|\]$/g, '');
    return [{ kind, node, endpoint: '', url: customURL }];
  }
  return nodes.flatMap((node) => endpoints.map((e) => ({ kind, node, endpoint: e.name, url: nodeURL(node, e) })));
}

// checkAll runs the planned checks all at once, so a test takes about as long as its slowest
// node, and reports each one as it finishes.
export function checkAll(fetchFn, plan, shape, { onProgress = () => {}, ...opts } = {}) {
  let done = 0;
  return Promise.all(plan.map(async (c, i) => {
    const check = { ...c, shape, ...(await checkURL(fetchFn, c.url, shape, opts)) };
    onProgress(++done, plan.length, check, i);
    return check;
  }));
}

// clip keeps a value the service accepts: printable (no control characters) and at most max
// UTF-8 bytes, cut on a character boundary.
export function clip(s, max) {
  const chars = [...String(s ?? '').replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ')].slice(0, max);
  const enc = new TextEncoder();
  while (enc.encode(chars.join('')).length > max) chars.pop();
  return chars.join('');
}

// toResultInput maps a check to the service's ResultInput (server/api/results.go), field for
// field.
export function toResultInput(check, ctx) {
  return {
    gadgetVersion: GADGET_VERSION,
    pageOrigin: ctx.pageOrigin,
    targetKind: check.kind,
    node: check.node.toLowerCase(),
    url: check.url,
    method: normalizeMethod(check.shape.method || 'GET'),
    headerNames: (check.shape.headers || []).map((h) => h.name.toLowerCase()),
    credentials: check.shape.credentials || 'same-origin',
    verdict: check.verdict,
    browserError: clip(check.error, 500),
    durationMs: Math.min(600000, Math.max(0, check.ms)),
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
export function placeholderHeaders(headers, typed) {
  return (headers || []).map((h) => ({
    name: h.name,
    value: !typed || VALUE_MATTERS.includes(h.name.toLowerCase()) ? h.value : 'corscheck',
  }));
}

// reportText is the plain-text report for a ticket, in the user's language.
export function reportText(t, { checks, target, pageOrigin, time, agentId, extension }) {
  const s = checks[0]?.shape || target.request;
  const lines = [
    t('report.header', { version: GADGET_VERSION, time: (time || new Date()).toISOString() }),
    t('report.origin', { origin: pageOrigin }),
    t('report.target', { label: target.label }),
    t('shape', {
      method: normalizeMethod(s.method), credentials: s.credentials,
      headers: s.headers.map((h) => h.name.toLowerCase()).join(', ') || t('none'),
    }),
  ];
  if (agentId) lines.push(t('report.agent', { agent: agentId, extension: extension || '-' }));
  for (const c of checks) {
    lines.push('', `${c.node}  ${c.url}`, `  ${t(`verdict.${c.verdict}`)}, ${t('ms', { ms: Math.round(c.ms) })}${c.corsStatus ? `, HTTP ${c.corsStatus}` : ''}${c.error ? `, ${c.error}` : ''}`);
    const d = c.diagnosis;
    if (!d) continue;
    lines.push(`  ${t('diag.verdict', { verdict: t(`verdict.${d.verdict}`) })}`);
    if (d.explanation) lines.push(`  ${d.explanation}`);
    if (d.corsError) lines.push(`  ${d.corsError}${d.failedParameter ? ` (${d.failedParameter})` : ''}`);
    if (d.console) lines.push(`  ${d.console}`);
    for (const f of d.fixes || []) {
      lines.push(`  ${t('fix.on', { node: f.node })} ${f.summary}`, ...(f.commands || []).map((x) => `    ${x}`));
      if (f.restart?.length) lines.push(`    ${t('fix.restart', { services: f.restart.join(', ') })}`);
    }
  }
  return lines.join('\n');
}

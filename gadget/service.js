// The client of the corscheck service (server/api). Everything is optional: without a service
// URL the gadget keeps the built-in targets and shows browser verdicts only.

import { DEFAULT_TARGETS, normalizeTargets } from './targets.js';
import { clip, normalizeMethod, placeholderHeaders } from './check.js';

const BATCH = 100; // the most results POST /api/v1/results takes at once

export function createService(fetchFn, base, { timeoutMs = 15000, setTimer = setTimeout, clearTimer = clearTimeout } = {}) {
  async function call(path, body) {
    const ctl = new AbortController();
    const timer = setTimer(() => ctl.abort(), timeoutMs);
    try {
      const res = await fetchFn(base + path, {
        method: body ? 'POST' : 'GET', mode: 'cors', credentials: 'omit', cache: 'no-store', signal: ctl.signal,
        ...(body && { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }),
      });
      const answer = await res.json().catch(() => null);
      // The service answers errors as {"error": "…", "fields": {…}}.
      if (!res.ok) {
        const fields = Object.entries(answer?.fields || {}).map(([k, v]) => `${k} ${v}`).join('; ');
        throw new Error(`${answer?.error || `HTTP ${res.status}`}${fields ? `: ${fields}` : ''}`);
      }
      return answer;
    } catch (e) {
      throw ctl.signal.aborted ? new Error(`no answer within ${timeoutMs / 1000} s`) : e;
    } finally {
      clearTimer(timer);
    }
  }

  return {
    configured: !!base,

    // loadTargets never fails: on any problem it returns the built-in targets and the error.
    async loadTargets() {
      if (!base) return { targets: DEFAULT_TARGETS, source: 'builtin' };
      try {
        const targets = normalizeTargets((await call('/api/v1/targets'))?.targets);
        if (!targets) throw new Error('the catalogue has no usable target');
        return { targets, source: 'service' };
      } catch (e) {
        return { targets: DEFAULT_TARGETS, source: 'fallback', error: e.message };
      }
    },

    // postResults stores one test's results and returns their ids, in order.
    async postResults(inputs) {
      if (!base || !inputs.length) return [];
      const ids = [];
      for (let i = 0; i < inputs.length; i += BATCH) {
        ids.push(...((await call('/api/v1/results', inputs.slice(i, i + BATCH)))?.ids || []));
      }
      return ids;
    },

    // diagnose asks the service to repeat a failed check server-side and returns its report
    // (server/probe Report: verdict, corsError, failedParameter, console, explanation, network,
    // fixes).
    async diagnose(check, origin, resultId = 0) {
      const s = check.shape;
      const answer = await call('/api/v1/diagnose', {
        url: check.url, origin, kind: check.kind, method: normalizeMethod(s.method || 'GET'),
        headers: placeholderHeaders(s.headers, s.typed).slice(0, 30).map((h) => ({ name: h.name, value: clip(h.value, 1024) })),
        credentials: s.credentials || 'same-origin', resultId: resultId || 0,
      });
      if (!answer?.report) throw new Error('the service sent no report');
      return answer.report;
    },
  };
}

// The client of the corscheck service (server/api). Everything is optional: without a service
// URL the gadget keeps the built-in targets and shows browser verdicts only. The service checks
// what it is sent and answers a refusal with the reason, which the gadget shows.

import { DEFAULT_TARGETS } from './targets.js';
import { normalizeMethod, placeholderHeaders } from './check.js';

const BATCH = 100; // the most results POST /api/v1/results takes at once

export function createService(fetchFn, base, { timeoutMs = 15000, lang } = {}) {
  async function call(path, body) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), timeoutMs);
    try {
      const res = await fetchFn(base + path, {
        method: body ? 'POST' : 'GET', mode: 'cors', credentials: 'omit', cache: 'no-store', signal: ctl.signal,
        ...(body && { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }),
      });
      const answer = await res.json().catch(() => null);
      // The service answers errors as {"error": "…", "fields": {…}}.
      if (!res.ok) {
        const fields = Object.entries(answer?.fields || {}).map(([k, v]) => `${k} ${v}`).join('; ');
        throw new Error(`${answer?.error || `HTTP ${res.status}`}${fields && `: ${fields}`}`);
      }
      return answer;
    } catch (e) {
      throw ctl.signal.aborted ? new Error(`no answer within ${timeoutMs / 1000} s`) : e;
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    configured: !!base,

    // loadTargets never fails: on any problem it returns the built-in targets and the error. The
    // service's catalogue is validated there, its lists never null.
    async loadTargets() {
      if (!base) return { targets: DEFAULT_TARGETS, source: 'builtin' };
      try {
        const targets = (await call('/api/v1/targets'))?.targets;
        if (!targets?.length) throw new Error('no usable target');
        return { targets, source: 'service' };
      } catch (e) {
        return { targets: DEFAULT_TARGETS, source: 'fallback', error: e.message };
      }
    },

    // postResults stores one test's results and returns their ids, in order.
    async postResults(inputs) {
      const ids = [];
      if (!base) return ids;
      for (let i = 0; i < inputs.length; i += BATCH) {
        ids.push(...((await call('/api/v1/results', inputs.slice(i, i + BATCH)))?.ids || []));
      }
      return ids;
    },

    // diagnose asks the service to repeat a failed check server-side and returns its report
    // (server/probe Report: verdict, corsError, failedParameter, console, explanation, network,
    // fixes).
    async diagnose({ url, kind, shape }, origin, resultId = 0) {
      const { report } = await call('/api/v1/diagnose', {
        url, origin, kind, method: normalizeMethod(shape.method),
        headers: placeholderHeaders(shape.headers, shape.typed), credentials: shape.credentials, resultId, lang,
      }) || {};
      if (!report) throw new Error('no report');
      return report;
    },
  };
}

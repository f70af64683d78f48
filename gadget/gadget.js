// The entry point. TestCORSgadget.xml imports this module and calls boot(window, document) once
// the Finesse hub has connected (gadgets.HubSettings.onConnect), or on DOMContentLoaded outside
// Finesse (the simulator). It works with or without finesse.js.

import { checkAll, reportText, toResultInput } from './check.js';
import { loadCatalog, pickLocale, translator } from './i18n.js';
import { createService } from './service.js';
import { nodeDefaults, queryDefaults, serviceURL } from './targets.js';
import { copyText, createUI } from './ui.js';

// environment says who and where the user is: from finesse.js when the desktop loaded it, else
// from the gadget prefs, else from the up_* parameters Finesse puts on the iframe's address.
export function environment(win) {
  const cfg = win.finesse?.gadget?.Config || {};
  const up = new URLSearchParams(win.location.search);
  let prefs = null;
  try {
    prefs = win.gadgets?.Prefs ? new win.gadgets.Prefs() : null;
  } catch {
    // no prefs outside a gadget container
  }
  const read = (k) => {
    let v = cfg[k];
    try {
      v ||= prefs?.getString(k);
    } catch {
      // an undeclared pref
    }
    return String(v || up.get(`up_${k}`) || '');
  };
  return { locale: read('locale'), agentId: read('id'), extension: read('extension'), role: read('role') };
}

// finesseHooks asks finesse.js, when present, for the user's role and for the moments the
// gadget's tab becomes visible (adjustHeight only measures a visible gadget).
function finesseHooks(win, env, resize) {
  const f = win.finesse;
  if (!env.role) {
    try {
      f.clientservices.ClientServices.init(f.gadget.Config, false);
      new f.restservices.User({
        id: env.agentId,
        onLoad: (user) => { env.role = user.hasSupervisorRole() ? 'Supervisor' : 'Agent'; },
      });
    } catch {
      // without finesse.js (or a signed-in user) the role stays empty
    }
  }
  try {
    const cs = f.containerservices.ContainerServices;
    const services = cs.init();
    services.addHandler(cs.Topics.ACTIVE_TAB, resize);
    services.makeActiveTabReq();
  } catch {
    // outside the Finesse desktop: the listeners below suffice
  }
  win.document.addEventListener('visibilitychange', () => win.document.hidden || resize());
  let width = 0;
  if (win.ResizeObserver) {
    new win.ResizeObserver(([e]) => {
      if (e.contentRect.width !== width) {
        width = e.contentRect.width;
        resize();
      }
    }).observe(win.document.documentElement);
  }
}

export async function boot(win, doc, deps = {}) {
  const fetchFn = deps.fetch || win.fetch.bind(win);
  const root = doc.getElementById('corscheck') || doc.body.appendChild(doc.createElement('div'));
  const env = environment(win);
  const t = translator(await loadCatalog(pickLocale(env.locale, win.navigator?.language)));
  const query = queryDefaults(win.location.href);
  // A service URL baked in by `corscheck gadget build` wins over one in the layout's gadget URL.
  const service = createService(fetchFn, serviceURL(root.dataset.service) || serviceURL(query.service));
  const origin = win.location.origin;
  const gw = win.gadgets?.window;

  let queued = false;
  const resize = () => {
    if (queued || !gw?.adjustHeight) return;
    queued = true;
    (win.requestAnimationFrame || setTimeout)(() => {
      queued = false;
      try {
        gw.adjustHeight();
      } catch {
        // a container without dynamic-height
      }
    });
  };
  try {
    gw?.setTitle?.(t('title'));
  } catch {
    // a container without settitle
  }

  let last = null;
  const ui = createUI(doc, root, {
    t, origin, onResize: resize, onTest: run,
    copy: (text) => copyText(win, doc, text),
    reportText: () => (last ? reportText(t, last) : ''),
  });
  finesseHooks(win, env, resize);

  const { targets, source, error } = await service.loadTargets();
  const baked = Object.fromEntries(new URLSearchParams(root.dataset.defaults || ''));
  ui.setTargets(targets, nodeDefaults(targets, query, baked), query.target || baked.target);
  if (source === 'builtin') ui.setNote(t('service.none'));
  if (source === 'fallback') ui.setNote(t('service.fallback', { error }));

  // run tests every node at once, then reports the results in one batch and asks the service
  // why each failure failed.
  async function run({ target, plan, shape }) {
    const time = new Date();
    ui.start(plan);
    const checks = await checkAll(fetchFn, plan, shape, {
      timeoutMs: deps.timeoutMs || 10000,
      onProgress: (done, total, check, i) => ui.update(i, check, done, total),
    });
    last = { checks, target, pageOrigin: origin, time, agentId: env.agentId, extension: env.extension };
    ui.finish(checks);
    if (!service.configured) return last;
    const ctx = { ...env, pageOrigin: origin, userAgent: win.navigator?.userAgent, time };
    let ids = [];
    try {
      ids = await service.postResults(checks.map((c) => toResultInput(c, ctx)));
    } catch (e) {
      ui.setNote(t('report.failed', { error: e.message }));
    }
    const failed = checks.map((c, i) => [c, i]).filter(([c]) => c.verdict !== 'allowed');
    for (const [c, i] of failed) ui.diagnosing(i, c);
    // A few at a time: the service rate-limits diagnoses per client.
    const worker = async () => {
      for (let item = failed.shift(); item; item = failed.shift()) {
        const [c, i] = item;
        try {
          c.diagnosis = await service.diagnose(c, origin, ids[i]);
          ui.diagnosis(i, c, c.diagnosis);
        } catch (e) {
          ui.diagnosisFailed(i, c, e.message);
        }
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    return last;
  }

  return { ui, service, env, run };
}

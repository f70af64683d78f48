// The entry point. TestCORSgadget.xml imports this module and calls boot(window, document) once
// the Finesse hub has connected (gadgets.HubSettings.onConnect), or on DOMContentLoaded outside
// Finesse (the simulator). It works with or without finesse.js.

import { TITLE } from './check.js';
import { loadCatalog, pickLocale, translator } from './i18n.js';
import { createService } from './service.js';
import { nodeDefaults, queryDefaults, serviceURL } from './targets.js';
import { createUI } from './ui.js';

// environment says who and where the user is: from finesse.js when the desktop loaded it, else
// from the gadget prefs, else from the up_* parameters Finesse puts on the iframe's address.
export function environment(win) {
  const cfg = win.finesse?.gadget?.Config || {};
  const up = new URLSearchParams(win.location.search);
  const read = (k) => {
    let v = cfg[k];
    try {
      v ||= new win.gadgets.Prefs().getString(k);
    } catch {
      // no prefs outside a gadget container, or an undeclared pref
    }
    return String(v || up.get(`up_${k}`) || '');
  };
  return { locale: read('locale'), agentId: read('id'), extension: read('extension'), role: read('role') };
}

// finesseHooks asks finesse.js, when present, for the user's role and for the moments the
// gadget's tab becomes visible (adjustHeight only measures a visible gadget).
function finesseHooks(win, env, resize) {
  const f = win.finesse;
  try {
    if (!env.role) {
      f.clientservices.ClientServices.init(f.gadget.Config, false);
      new f.restservices.User({
        id: env.agentId,
        onLoad: (user) => { env.role = user.hasSupervisorRole() ? 'Supervisor' : 'Agent'; },
      });
    }
  } catch {
    // without finesse.js (or a signed-in user) the role stays empty
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
  // A new width reflows the page; a new height (adjustHeight's) changes nothing more.
  win.addEventListener?.('resize', resize);
}

export async function boot(win, doc, { timeoutMs } = {}) {
  const fetchFn = win.fetch.bind(win);
  const root = doc.getElementById('corscheck');
  // Who and where the user is; finesseHooks adds the role when finesse.js knows it.
  const context = { ...environment(win), pageOrigin: win.location.origin, userAgent: win.navigator.userAgent };
  const lang = pickLocale(context.locale, win.navigator.language);
  const t = translator(await loadCatalog(lang));
  const query = queryDefaults(win.location.href);
  // A service URL baked in by `corscheck gadget build` wins over one in the layout's gadget URL.
  // The service's diagnoses come in the agent's language.
  const service = createService(fetchFn, serviceURL(root.dataset.service) || serviceURL(query.service), { lang });
  const gw = win.gadgets?.window;

  // resize fits the gadget's height to the page, once per frame at most.
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
    gw.setTitle(TITLE);
  } catch {
    // a container without settitle
  }

  const ui = createUI(doc, root, {
    t, context, service, fetchFn, timeoutMs, onResize: resize, copy: (text) => copyText(win, text),
  });
  finesseHooks(win, context, resize);

  const { targets, source, error } = await service.loadTargets();
  const baked = Object.fromEntries(new URLSearchParams(root.dataset.defaults));
  ui.setTargets(targets, nodeDefaults(targets, query, baked), query.target || baked.target);
  if (source === 'builtin') ui.setNote(t('noService'));
  if (source === 'fallback') ui.setNote(t('fallback', { error }));
}

// copyText puts text on the clipboard, when the browser lets the page.
async function copyText(win, text) {
  try {
    await win.navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

// The page: builds the form and the results with DOM APIs only. Every string that comes from
// outside (node names, URLs, header values, the service's answers) becomes a text node, never
// markup.

import { DEFAULT_TARGETS, parseNodes, validPath, validPort, validURL } from './targets.js';
import { normalizeMethod, parseHeaderLines, planChecks, validMethod } from './check.js';

// h makes an element: props are attributes, except on* (listeners) and a few properties;
// children are elements or strings (text nodes).
function h(doc, tag, props = {}, ...kids) {
  const e = doc.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'value' && tag === 'textarea') e.value = v;
    else e.setAttribute(k === 'cls' ? 'class' : k, v === true ? '' : String(v));
  }
  e.append(...kids.flat().filter((x) => x != null && x !== false));
  return e;
}

// choose selects an option by value; selecting one deselects the others.
function choose(select, value) {
  const o = [...select.options].find((x) => x.value === value);
  if (o) o.selected = true;
}

// copyText puts text on the clipboard; the textarea fallback serves browsers that refuse the
// Clipboard API in frames.
export async function copyText(win, doc, text) {
  try {
    await win.navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = h(doc, 'textarea', { cls: 'cc-offscreen', readonly: true, value: text });
    doc.body.append(area);
    area.select();
    let ok = false;
    try {
      ok = doc.execCommand('copy');
    } catch {
      // no clipboard at all: say so below
    }
    area.remove();
    return ok;
  }
}

// Built-in labels and notes are translated; an admin's own stay as written.
function builtinText(t, target, field) {
  const d = DEFAULT_TARGETS.find((x) => x.id === target.id);
  return d && d[field] === target[field] && target[field] ? t(`${field}.${target.id}`) : target[field];
}

export function createUI(doc, root, { t, origin, copy, onTest, onResize = () => {}, reportText }) {
  const el = (...a) => h(doc, ...a);
  const state = { targets: [], target: null, nodes: {}, endpoints: {}, running: false };
  let items = [];

  const status = el('p', { cls: 'cc-status', role: 'status', 'aria-live': 'polite' });
  const announce = (text) => {
    status.textContent = text;
    onResize();
  };
  const copyButton = (getText) => el('button', {
    type: 'button', cls: 'cc-small',
    onclick: async () => announce((await copy(getText())) ? t('copied') : t('copyFailed')),
  }, t('copy'));

  const targetSelect = el('select', { id: 'cc-target', onchange: () => selectTarget(targetSelect.value) });
  const notes = el('p', { cls: 'cc-hint' });
  // The target's fields stay hidden until the catalogue has arrived.
  const shape = el('p', { cls: 'cc-hint', hidden: true });
  const rows = el('div', { cls: 'cc-rows' });
  const nodesSet = el('fieldset', { hidden: true }, el('legend', {}, t('nodes')), rows,
    el('button', { type: 'button', cls: 'cc-small', onclick: () => addNode('') }, t('addNode')));
  const endpointRows = el('div', { cls: 'cc-rows' });
  const endpointsSet = el('fieldset', { hidden: true }, el('legend', {}, t('endpoints')), endpointRows);
  const plain = { spellcheck: 'false', autocomplete: 'off' };
  const url = el('input', { ...plain, id: 'cc-url', type: 'url', placeholder: 'https://host.example.com:8444/path' });
  const method = el('input', { ...plain, id: 'cc-method', value: 'GET', size: 8 });
  const headers = el('textarea', { ...plain, id: 'cc-headers', rows: 3, placeholder: 'Authorization: Basic …' });
  const credentials = el('select', { id: 'cc-credentials' },
    ['include', 'same-origin', 'omit'].map((c) => el('option', { value: c }, t(`cred.${c}`))));
  const field = (id, label, control) => el('div', { cls: 'cc-field' }, el('label', { for: id }, label), control);
  const customSet = el('fieldset', { hidden: true }, el('legend', {}, t('request')),
    field('cc-url', t('url'), url), field('cc-method', t('method'), method),
    field('cc-headers', t('headers'), headers), field('cc-credentials', t('credentials'), credentials));
  const testButton = el('button', { type: 'submit', cls: 'cc-primary' }, t('test'));
  // Progress is shown, not announced: the live region speaks at the start and at the end only.
  const progress = el('progress', { max: 1, value: 0, 'aria-hidden': 'true' });
  const progressText = el('span', { cls: 'cc-hint' });
  const showProgress = (done, total) => {
    progress.hidden = progressText.hidden = done >= total;
    progress.max = total;
    progress.value = done;
    progressText.textContent = t('testing', { done, total });
  };
  showProgress(0, 0);
  const reportButton = copyButton(() => reportText());
  reportButton.textContent = t('copyReport');
  reportButton.disabled = true;
  const errors = el('div', { cls: 'cc-error', role: 'alert' });
  const note = el('p', { cls: 'cc-hint' });
  const results = el('ul', { cls: 'cc-results' });

  root.classList.add('cc');
  root.replaceChildren(
    el('div', { cls: 'cc-origin' },
      el('span', { id: 'cc-origin-label' }, t('origin.label')), ' ',
      el('code', { id: 'cc-origin' }, origin), ' ', copyButton(() => origin),
      el('p', { cls: 'cc-hint' }, t('origin.hint'))),
    el('form', { novalidate: true, onsubmit: submit },
      field('cc-target', t('target'), targetSelect), notes, shape, nodesSet, endpointsSet, customSet,
      el('div', { cls: 'cc-actions' }, testButton, reportButton, progress, progressText), errors),
    status, note, results);

  function selectTarget(id) {
    const target = state.targets.find((x) => x.id === id) || state.targets[0];
    state.target = target;
    choose(targetSelect, target.id);
    notes.textContent = builtinText(t, target, 'notes') || '';
    const hasEndpoints = target.endpoints.length > 0;
    nodesSet.hidden = endpointsSet.hidden = !hasEndpoints;
    customSet.hidden = hasEndpoints;
    shape.hidden = !hasEndpoints;
    const r = target.request;
    shape.textContent = t('shape', {
      method: r.method, credentials: r.credentials, headers: r.headers.map((x) => x.name.toLowerCase()).join(', ') || t('none'),
    });
    if (!hasEndpoints) {
      method.value = r.method;
      choose(credentials, r.credentials);
      headers.value = r.headers.map((x) => `${x.name}: ${x.value}`).join('\n');
    }
    renderNodes();
    renderEndpoints();
    onResize();
  }

  function renderNodes(focus = -1) {
    const list = state.nodes[state.target.id];
    if (!list.length) list.push('');
    rows.replaceChildren(...list.map((value, i) => {
      const id = `cc-node-${i + 1}`;
      const input = el('input', {
        ...plain, id, value, placeholder: t('node.placeholder'),
        oninput: () => { list[i] = input.value; },
        // A pasted list (a, b, c) becomes one row per node.
        onchange: () => {
          const { nodes, invalid } = parseNodes(input.value);
          if (nodes.length + invalid.length > 1) {
            list.splice(i, 1, ...nodes, ...invalid);
            renderNodes(i);
          }
        },
      });
      return el('div', { cls: 'cc-row' }, el('label', { for: id }, t('node', { n: i + 1 })), input,
        el('button', {
          type: 'button', cls: 'cc-small', 'aria-label': t('removeNode', { n: i + 1 }),
          onclick: () => {
            list.splice(i, 1);
            renderNodes(Math.max(0, Math.min(i, list.length - 1)));
          },
        }, '×'));
    }));
    rows.querySelectorAll('input')[focus]?.focus();
    onResize();
  }

  function addNode(value) {
    const list = state.nodes[state.target.id];
    list.push(value);
    renderNodes(list.length - 1);
  }

  function renderEndpoints() {
    const eps = state.endpoints[state.target.id];
    endpointRows.replaceChildren(...eps.map((e, i) => {
      const nameId = `cc-ep-${i}`;
      return el('div', { cls: 'cc-row' }, el('span', { id: nameId, cls: 'cc-epname' }, e.name),
        el('label', {}, `${t('port')} `, el('input', {
          type: 'number', min: 1, max: 65535, value: String(e.port), cls: 'cc-port', 'aria-describedby': nameId,
          oninput: (ev) => { e.port = Number(ev.target.value); },
        })),
        el('label', {}, `${t('path')} `, el('input', {
          ...plain, value: e.path, 'aria-describedby': nameId,
          oninput: (ev) => { e.path = ev.target.value.trim(); },
        })));
    }));
  }

  // collect validates the form and returns what to test, or shows every problem at once.
  function collect() {
    const target = state.target;
    const problems = [];
    let plan = [];
    let request = target.request;
    if (target.endpoints.length) {
      const { nodes, invalid } = parseNodes(state.nodes[target.id].join(' '));
      for (const value of invalid) problems.push(t('err.node', { value }));
      if (!nodes.length && !invalid.length) problems.push(t('err.noNodes'));
      const eps = state.endpoints[target.id];
      for (const e of eps) {
        if (!validPort(e.port)) problems.push(t('err.port', { name: e.name }));
        if (!validPath(e.path)) problems.push(t('err.path', { name: e.name }));
      }
      if (!problems.length) plan = planChecks(target, nodes, eps);
    } else {
      const u = validURL(url.value);
      if (!u) problems.push(t('err.url'));
      const m = method.value.trim();
      if (!validMethod(m)) problems.push(t('err.method', { value: m }));
      const parsed = parseHeaderLines(headers.value);
      for (const e of parsed.errors) problems.push(e.name ? t('err.forbidden', { n: e.line, name: e.name }) : t('err.header', { n: e.line }));
      request = { method: normalizeMethod(m), headers: parsed.headers, credentials: credentials.value, typed: true };
      if (!problems.length) plan = planChecks(target, [], [], u);
    }
    errors.replaceChildren(...problems.map((p) => el('p', {}, p)));
    return problems.length ? null : { target, plan, shape: request };
  }

  async function submit(ev) {
    ev.preventDefault();
    if (state.running || !state.target) return;
    const test = collect();
    onResize();
    if (!test) return;
    // aria-disabled, not disabled: a disabled button would drop the keyboard focus.
    state.running = true;
    testButton.setAttribute('aria-disabled', 'true');
    root.setAttribute('aria-busy', 'true');
    try {
      await onTest(test);
    } finally {
      state.running = false;
      testButton.removeAttribute('aria-disabled');
      root.removeAttribute('aria-busy');
      onResize();
    }
  }

  function renderCheck(i, check, extra = []) {
    const v = check.verdict || 'pending';
    const parts = [el('span', { cls: 'cc-verdict' }, t(`verdict.${v}`))];
    if (check.verdict) parts.push(' ', el('span', { cls: 'cc-ms' }, t('ms', { ms: Math.round(check.ms) })));
    if (check.corsStatus) parts.push(' ', el('span', { cls: 'cc-ms' }, `HTTP ${check.corsStatus}`));
    const body = [el('div', { cls: 'cc-line' }, ...parts), el('div', { cls: 'cc-url' }, check.url)];
    if (check.verdict === 'blocked') body.push(el('p', { cls: 'cc-hint' }, t('hint.blocked')));
    if (check.verdict === 'unreachable') {
      body.push(el('p', { cls: 'cc-hint' }, check.timedOut ? t('hint.timeout') : t('hint.unreachable'), ' ',
        el('a', { href: check.url, target: '_blank', rel: 'noopener noreferrer' }, t('openTab'))));
    }
    items[i].className = `cc-check cc-${v}`;
    items[i].replaceChildren(...body, ...extra);
    onResize();
  }

  function diagnosisView(d) {
    const verdict = ['allowed', 'blocked', 'unreachable'].includes(d.verdict) ? t('diag.verdict', { verdict: t(`verdict.${d.verdict}`) }) : '';
    const out = [el('p', {}, el('strong', {}, t('diag.title')), ' ', verdict)];
    if (d.explanation) out.push(el('p', {}, d.explanation));
    if (d.corsError) out.push(el('p', {}, t('diag.reason', { reason: d.corsError }), d.failedParameter ? ` (${d.failedParameter})` : ''));
    if (d.network?.message) out.push(el('p', { cls: 'cc-hint' }, d.network.message));
    if (d.console) out.push(el('p', {}, t('diag.console')), el('pre', {}, d.console));
    for (const f of d.fixes || []) {
      out.push(el('div', { cls: 'cc-fix' },
        el('p', {}, el('strong', {}, t('fix.on', { node: f.node })), ' ', f.summary),
        f.commands?.length ? el('pre', {}, f.commands.join('\n')) : null,
        f.restart?.length ? el('p', {}, t('fix.restart', { services: f.restart.join(', ') })) : null,
        (f.notes || []).map((n) => el('p', { cls: 'cc-hint' }, n))));
    }
    return el('div', { cls: 'cc-diag' }, out);
  }

  return {
    // setTargets fills the dropdown; nodes maps target ids to their default nodes.
    setTargets(targets, nodes = {}, selected = '') {
      state.targets = targets;
      for (const x of targets) {
        state.nodes[x.id] = [...(nodes[x.id] || x.nodes)];
        state.endpoints[x.id] = x.endpoints.map((e) => ({ ...e }));
      }
      targetSelect.replaceChildren(...targets.map((x) => el('option', { value: x.id }, builtinText(t, x, 'label'))));
      selectTarget(selected);
    },
    setNote(text) {
      note.textContent = text;
      onResize();
    },
    // start lists the planned checks, grouped by node, as pending.
    start(plan) {
      items = plan.map(() => el('li'));
      const byNode = new Map();
      plan.forEach((c, i) => byNode.set(c.node, [...(byNode.get(c.node) || []), i]));
      results.replaceChildren(...[...byNode].map(([node, idx]) => el('li', { cls: 'cc-node' },
        el('h3', {}, node), el('ul', {}, idx.map((i) => items[i])))));
      plan.forEach((c, i) => renderCheck(i, c));
      showProgress(0, plan.length);
      reportButton.disabled = true;
      announce(t('testing', { done: 0, total: plan.length }));
    },
    update(i, check, done, total) {
      renderCheck(i, check);
      showProgress(done, total);
    },
    finish(checks) {
      const n = (v) => checks.filter((c) => c.verdict === v).length;
      reportButton.disabled = false;
      announce(t('done', { allowed: n('allowed'), blocked: n('blocked'), unreachable: n('unreachable') }));
    },
    diagnosing(i, check) {
      renderCheck(i, check, [el('p', { cls: 'cc-hint' }, t('diagnosing'))]);
    },
    diagnosis(i, check, report) {
      renderCheck(i, check, [diagnosisView(report)]);
    },
    diagnosisFailed(i, check, error) {
      renderCheck(i, check, [el('p', { cls: 'cc-hint' }, t('diag.failed', { error }))]);
    },
    select: selectTarget,
    addNode,
    collect,
  };
}

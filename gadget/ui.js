// The page: the form, the tests it runs and their results, built with DOM APIs only. Every
// string that comes from outside (node names, URLs, header values, the service's answers)
// becomes a text node, never markup.

import { DEFAULT_TARGETS, parseNodes, validURL } from './targets.js';
import {
  checkAll, normalizeMethod, parseHeaderLines, planChecks, reportText, shapeText, timing, toResultInput, validMethod,
} from './check.js';

// choose selects the option of a <select> with this value.
function choose(select, value) {
  for (const o of select.options) o.selected = o.value === value;
}

// Built-in labels and notes are translated where the catalog has them (product names are not);
// an admin's own stay as written.
function builtinText(t, target, field) {
  const builtin = DEFAULT_TARGETS.find((x) => x.id === target.id);
  const key = `${field}.${target.id}`;
  const text = t(key); // a key the catalog lacks comes back as itself
  return target[field] && builtin?.[field] === target[field] && text !== key ? text : target[field];
}

// createUI builds the page in root. context says who and where the user is (environment() and
// pageOrigin, userAgent); a test fetches with fetchFn and reports to service.
export function createUI(doc, root, { t, context, service, fetchFn, timeoutMs, copy, onResize }) {
  // el makes an element: props are attributes (true: present), except on* (listeners); children
  // are elements or strings (text nodes), nested arrays flattened, empty ones left out.
  const el = (tag, props = {}, ...kids) => {
    const e = doc.createElement(tag);
    for (const [k, v] of Object.entries(props)) {
      if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : v);
    }
    e.append(...kids.flat().filter(Boolean));
    return e;
  };
  const hint = (...kids) => el('p', { class: 'cc-hint' }, ...kids);
  const smallButton = (label, onclick, props) => el('button', { type: 'button', class: 'cc-small', onclick, ...props }, label);
  const fieldset = (legend, ...kids) => el('fieldset', {}, el('legend', {}, legend), ...kids);
  const field = (label, control) => el('div', { class: 'cc-row' }, el('label', { for: control.id }, label), control);
  const plain = { spellcheck: 'false', autocomplete: 'off' };
  // The targets, the one selected, and per target id the nodes and endpoints typed for it.
  let targets = [];
  let current = null;
  let nodesOf = {};
  const endpointsOf = {};
  let items = [];
  let last = null; // the last test, for the report

  // say(p) makes a function that puts a text (or an element) in p.
  const say = (p) => (text) => {
    p.replaceChildren(text);
    onResize();
  };
  const status = el('p', { role: 'status', 'aria-live': 'polite' });
  const announce = say(status);
  // copyButton copies getText(); where the browser refuses, it shows the text to copy by hand.
  const copyButton = (label, getText) => smallButton(label, async () => {
    const text = getText();
    const copied = await copy(text);
    announce(copied ? t('copied') : t('copyFailed'));
    if (!copied) setNote(el('pre', {}, text));
  });

  const targetSelect = el('select', { id: 'cc-target', onchange: () => selectTarget(targetSelect.value) });
  const notes = hint();
  const shapeHint = hint();
  const rows = el('div', { class: 'cc-rows' });
  const endpointRows = el('div');
  // The fields of a target with endpoints, or of the custom one; hidden until the catalogue has
  // arrived.
  const targetSet = el('div', { hidden: true }, shapeHint,
    fieldset(t('nodes'), rows, smallButton(t('addNode'), addNode)), fieldset(t('endpoints'), endpointRows));
  const url = el('input', { ...plain, id: 'cc-url', type: 'url', placeholder: 'https://host:8444/path' });
  const method = el('input', { ...plain, id: 'cc-method', size: 8 });
  const headers = el('textarea', { ...plain, id: 'cc-headers', rows: 3, placeholder: 'Authorization: Basic …' });
  const credentials = el('select', { id: 'cc-credentials' },
    ['include', 'same-origin', 'omit'].map((c) => el('option', { value: c }, t(`cred.${c}`))));
  const customSet = fieldset(t('request'),
    field('URL', url), field(t('method'), method), field(t('headers'), headers), field(t('credentials'), credentials));
  customSet.hidden = true;
  const testButton = el('button', { type: 'submit', class: 'cc-primary' }, t('test'));
  const reportButton = copyButton(t('copyReport'), () => reportText(t, last, items.flatMap((li) => ['', ...asText(li, '')])));
  // Progress is shown, not announced: the live region speaks at the start and at the end only.
  const progress = el('span', { class: 'cc-hint' });
  const showProgress = (done, total) => {
    progress.textContent = done < total ? t('testing', { done, total }) : '';
  };
  reportButton.disabled = true;
  const errors = el('div', { role: 'alert' });
  const note = el('div', { class: 'cc-hint' });
  const setNote = say(note);
  const results = el('ul');

  root.classList.add('cc');
  root.replaceChildren(
    el('div', {},
      t('origin'), ' ', el('code', { id: 'cc-origin' }, context.pageOrigin), ' ', copyButton(t('copy'), () => context.pageOrigin),
      hint(t('originHint'))),
    el('form', { novalidate: true, onsubmit: submit },
      field(t('target'), targetSelect), notes, targetSet, customSet,
      el('div', { class: 'cc-row' }, testButton, reportButton, progress), errors),
    status, note, results);

  function selectTarget(id) {
    const target = targets.find((x) => x.id === id) || targets[0];
    const r = target.request;
    const custom = !target.endpoints.length;
    current = target;
    choose(targetSelect, target.id);
    notes.textContent = builtinText(t, target, 'notes') || '';
    targetSet.hidden = custom;
    customSet.hidden = !custom;
    if (custom) {
      method.value = r.method;
      choose(credentials, r.credentials);
      headers.value = r.headers.map((x) => `${x.name}: ${x.value}`).join('\n');
    } else {
      shapeHint.textContent = shapeText(t, r);
      renderNodes();
      renderEndpoints();
    }
    onResize();
  }

  function renderNodes(focus = -1) {
    const list = nodesOf[current.id];
    if (!list.length) list.push('');
    rows.replaceChildren(...list.map((value, i) => {
      const id = `cc-node-${i + 1}`;
      const input = el('input', {
        ...plain, id, value, placeholder: t('nodeExample'),
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
      const remove = () => {
        list.splice(i, 1);
        renderNodes(Math.max(0, Math.min(i, list.length - 1)));
      };
      return el('div', { class: 'cc-row' }, el('label', { for: id }, t('node', { n: i + 1 })), input,
        smallButton('×', remove, { 'aria-label': t('removeNode', { n: i + 1 }) }));
    }));
    rows.querySelectorAll('input')[focus]?.focus();
    onResize();
  }

  function addNode() {
    const list = nodesOf[current.id];
    list.push('');
    renderNodes(list.length - 1);
  }

  function renderEndpoints() {
    endpointRows.replaceChildren(...endpointsOf[current.id].map((e, i) => {
      const nameId = `cc-ep-${i}`;
      const input = (label, props) => el('label', {}, `${label} `, el('input', { ...props, 'aria-describedby': nameId }));
      return el('div', { class: 'cc-row' }, el('span', { id: nameId }, e.name),
        input(t('port'), { type: 'number', min: 1, max: 65535, value: e.port, class: 'cc-port', oninput: (ev) => { e.port = Number(ev.target.value); } }),
        input(t('path'), { ...plain, value: e.path, oninput: (ev) => { e.path = ev.target.value.trim(); } }));
    }));
  }

  // collect validates the form and returns what to test, or shows every problem at once.
  function collect() {
    const target = current;
    const problems = [];
    let plan = [];
    let request = target.request;
    if (target.endpoints.length) {
      const { nodes, invalid } = parseNodes(nodesOf[target.id].join(' '));
      for (const value of invalid) problems.push(t('errNode', { value }));
      if (!nodes.length && !invalid.length) problems.push(t('errNoNodes'));
      const endpoints = endpointsOf[target.id];
      for (const { name, port, path } of endpoints) {
        if (!Number.isInteger(port) || port < 1 || port > 65535) problems.push(t('errPort', { name }));
        // As the service requires: from /, without white space or #, at most 512 characters.
        if (!/^\/[^\s#]{0,511}$/.test(path)) problems.push(t('errPath', { name }));
      }
      plan = planChecks(target, nodes, endpoints);
    } else {
      const u = validURL(url.value);
      if (!u) problems.push(t('errURL'));
      const m = method.value.trim();
      if (!validMethod(m)) problems.push(t('errMethod', { value: m }));
      const parsed = parseHeaderLines(headers.value);
      for (const { line, name } of parsed.errors) {
        problems.push(name ? t('errForbidden', { n: line, name }) : t('errHeader', { n: line }));
      }
      request = { method: normalizeMethod(m), headers: parsed.headers, credentials: credentials.value, typed: true };
      if (u) plan = planChecks(target, [], [], u);
    }
    errors.replaceChildren(...problems.map((p) => el('p', {}, p)));
    onResize();
    return problems.length ? null : { target, plan, shape: request };
  }

  async function submit(ev) {
    ev.preventDefault();
    // One test at a time: aria-busy says one is running.
    if (root.hasAttribute('aria-busy') || !current) return;
    const test = collect();
    if (!test) return;
    // aria-disabled, not disabled: a disabled button would drop the keyboard focus.
    testButton.setAttribute('aria-disabled', 'true');
    root.setAttribute('aria-busy', 'true');
    try {
      await run(test);
    } finally {
      testButton.removeAttribute('aria-disabled');
      root.removeAttribute('aria-busy');
      onResize();
    }
  }

  // run tests every node at once, then reports the results in one batch and asks the service
  // why each failure failed.
  async function run({ target, plan, shape }) {
    const time = new Date();
    // The checks, grouped by node, pending.
    items = plan.map((c) => checkItem(c));
    results.replaceChildren(...[...new Set(plan.map((c) => c.node))].map((node) => el('li', { class: 'cc-node' },
      el('h3', {}, node), el('ul', {}, items.filter((_, i) => plan[i].node === node)))));
    showProgress(0, plan.length);
    reportButton.disabled = true;
    announce(t('testing', { done: 0, total: plan.length }));

    const checks = await checkAll(fetchFn, plan, shape, {
      timeoutMs,
      onProgress: (done, total, check, i) => {
        renderCheck(i, check);
        showProgress(done, total);
      },
    });
    last = { ...context, target, time, checks };
    reportButton.disabled = false;
    const n = (v) => checks.filter((c) => c.verdict === v).length;
    announce(t('done', { allowed: n('allowed'), blocked: n('blocked'), unreachable: n('unreachable') }));
    if (!service.configured) return;

    let ids = [];
    try {
      ids = await service.postResults(checks.map((c) => toResultInput(c, last)));
    } catch (e) {
      setNote(t('notStored', { error: e.message }));
    }
    const failed = checks.map((c, i) => [c, i]).filter(([c]) => c.verdict !== 'allowed');
    for (const [c, i] of failed) renderCheck(i, c, hint(t('diagnosing')));
    // A few at a time: the service rate-limits diagnoses per client.
    const worker = async () => {
      for (let item; (item = failed.shift());) {
        const [c, i] = item;
        try {
          const d = await service.diagnose(c, context.pageOrigin, ids[i]);
          renderCheck(i, c, diagnosisView(d), d);
        } catch (e) {
          renderCheck(i, c, hint(t('noDiagnosis', { error: e.message })));
        }
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
  }

  // asText renders a check as the report shows it: a line per paragraph, the blocks in it (its
  // diagnosis, a fix) indented, links (to the agent's browser) left out.
  const asText = (e, indent) => (e.matches('a') ? [] : e.matches('.cc-check, .cc-diag, .cc-fix')
    ? [...e.children].flatMap((c) => asText(c, `${indent}  `))
    : e.textContent.split('\n').map((line) => indent + line));

  // checkItem shows a check as it stands, and what the service found (extra, from diagnosis d).
  function checkItem(check, extra, d) {
    const v = check.verdict || 'pending';
    return el('li', { class: `cc-check cc-${v}` },
      el('div', {}, el('span', { class: 'cc-verdict' }, t(`verdict.${v}`)),
        check.verdict && [' ', el('span', { class: 'cc-hint' }, timing(check))]),
      el('div', { class: 'cc-url' }, check.url),
      v === 'blocked' && hint(t('hintBlocked')),
      // Accepting a certificate helps only where the failure can be one: not after a timeout,
      // nor where the service found no such host, a refused connection or silence.
      v === 'unreachable' && [hint(t('hintUnreachable')), !check.timedOut && !/^(dns|refused|timeout)$/.test(d?.network?.class)
        && el('a', { href: check.url, target: '_blank', rel: 'noopener' }, t('openTab'))],
      extra);
  }

  function renderCheck(i, check, extra, d) {
    items[i].replaceWith(items[i] = checkItem(check, extra, d));
    onResize();
  }

  const diagnosisView = (d) => el('div', { class: 'cc-diag' },
    el('p', {}, el('strong', {}, t('diagnosis')), ' ', t(`verdict.${d.verdict}`)),
    d.explanation && el('p', {}, d.explanation),
    d.corsError && el('p', {}, t('reason', { reason: d.corsError }), d.failedParameter && ` (${d.failedParameter})`),
    d.network?.message && hint(d.network.message),
    d.console && el('pre', {}, d.console), // the line DevTools shows
    (d.fixes || []).map((f) => el('div', { class: 'cc-fix' },
      el('p', {}, el('strong', {}, t('fixOn', { node: f.node })), ' ', f.summary),
      f.commands?.length && el('pre', {}, f.commands.join('\n')),
      f.restart?.length && el('p', {}, t('restart', { services: f.restart.join(', ') })),
      (f.notes || []).map((n) => hint(n)))));

  return {
    // setTargets fills the dropdown; nodes maps every target's id to its default nodes.
    setTargets(list, nodes, selected) {
      targets = list;
      nodesOf = nodes;
      for (const x of targets) endpointsOf[x.id] = x.endpoints.map((e) => ({ ...e }));
      targetSelect.replaceChildren(...targets.map((x) => el('option', { value: x.id }, builtinText(t, x, 'label'))));
      selectTarget(selected);
    },
    setNote,
  };
}

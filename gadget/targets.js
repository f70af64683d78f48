// The target catalogue: what to test on each node and the request a real gadget sends there.
// DEFAULT_TARGETS mirrors targets.Defaults() in server/targets; the service's catalogue, when one
// is configured, replaces it.

// Header values are placeholders (Basic "corscheck:probe"): for CORS only names matter.
const gadgetHeaders = () => [
  { name: 'Authorization', value: 'Basic Y29yc2NoZWNrOnByb2Jl' },
  { name: 'locale', value: 'en_US' },
  { name: 'peripheralid', value: '5000' },
];

export const DEFAULT_TARGETS = [
  {
    id: 'cuic', kind: 'cuic', label: 'CUIC (Unified Intelligence Center)',
    endpoints: [{ name: 'CUIC 8444', port: 8444, path: '/cuic/rest/status/' }],
    request: { method: 'GET', headers: gadgetHeaders(), credentials: 'include' },
    nodes: [],
    notes: 'CUIC 12.6(2) and later also serve this on 443; OPTIONS on /cuic/* needs no login there.',
  },
  {
    id: 'livedata', kind: 'livedata', label: 'Live Data',
    endpoints: [
      { name: 'Live Data web service', port: 12005, path: '/' },
      { name: 'Live Data Socket.IO', port: 12008, path: '/socket.io/' },
    ],
    request: { method: 'GET', headers: gadgetHeaders(), credentials: 'include' },
    nodes: [],
    notes: 'From 12.6(2) Live Data is also served on 443; Live Data gadgets need CUIC CORS too.',
  },
  {
    id: 'finesse', kind: 'finesse', label: 'Finesse REST API',
    endpoints: [{ name: 'Finesse 8445', port: 8445, path: '/finesse/api/SystemInfo' }],
    request: { method: 'GET', headers: [{ name: 'Authorization', value: 'Basic Y29yc2NoZWNrOnByb2Jl' }], credentials: 'include' },
    nodes: [],
  },
  {
    id: 'custom', kind: 'custom', label: 'Custom URL',
    endpoints: [],
    request: { method: 'GET', headers: [], credentials: 'same-origin' },
    nodes: [],
  },
];

const KINDS = ['cuic', 'livedata', 'finesse', 'custom'];
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export const isToken = (s) => typeof s === 'string' && TOKEN.test(s);

// normalizeTargets takes the service's catalogue (validated there; Go writes empty lists as
// null) and returns null when it has no target, so that the caller keeps the defaults.
export function normalizeTargets(list) {
  const out = (Array.isArray(list) ? list : []).filter((t) => t?.id && KINDS.includes(t.kind)).map((t) => ({
    ...t,
    label: t.label || t.id,
    endpoints: t.endpoints || [],
    request: { method: 'GET', credentials: 'same-origin', ...t.request, headers: t.request?.headers || [] },
    nodes: parseNodes((t.nodes || []).join(' ')).nodes,
  }));
  return out.length ? out : null;
}

export const validPort = (p) => Number.isInteger(p) && p >= 1 && p <= 65535;
export const validPath = (p) => typeof p === 'string' && p.startsWith('/') && p.length <= 512 && !/[\s#]/.test(p);

// validNode follows targets.ValidNode in Go: a host name (letters, digits, - and _ in labels of
// at most 63) or an IP address, never a port or a path. It returns the canonical lower-case
// form, or '' when the value is not a node.
export function validNode(s) {
  let n = String(s).trim().toLowerCase();
  if (n.startsWith('[') && n.endsWith(']')) n = n.slice(1, -1);
  if (!n || n.length > 253) return '';
  if (n.includes(':')) {
    try {
      return new URL(`http://[${n}]/`).hostname.slice(1, -1);
    } catch {
      return '';
    }
  }
  const labels = n.replace(/\.$/, '').split('.');
  return labels.every((l) => /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/.test(l)) ? n : '';
}

// parseNodes splits a list typed or passed in a URL (commas, semicolons or white space), keeps
// each node once and returns the values that are not nodes separately.
export function parseNodes(text) {
  const nodes = [];
  const invalid = [];
  for (const part of String(text ?? '').split(/[\s,;]+/)) {
    if (!part) continue;
    const n = validNode(part);
    if (!n) invalid.push(part);
    else if (!nodes.includes(n)) nodes.push(n);
  }
  return { nodes, invalid };
}

// nodeURL is https://{node}:{port}{path}, with IPv6 addresses in brackets and 443 left out, as
// Target.URLs does in Go.
export function nodeURL(node, { port, path }) {
  const host = node.includes(':') ? `[${node}]` : node;
  return `https://${host}${port === 443 ? '' : `:${port}`}${path}`;
}

// queryDefaults reads the defaults an admin put in the gadget's URL in the layout, e.g.
// TestCORSgadget.xml?cuic=cuicpub.example,cuicsub.example&target=cuic. In Finesse the iframe is
// /gadgets/ifr?url=<the gadget URL with that query>&up_urlPrefs=<the same as JSON>; the simulator
// may put them on the iframe's own query. Parameters named after a target id list its nodes.
export function queryDefaults(href) {
  const params = {};
  const take = (entries) => {
    for (const [k, v] of entries) if (!(k in params) && typeof v === 'string') params[k] = v;
  };
  const read = (f) => {
    try {
      take(f());
    } catch {
      // a malformed address or pref: skip it
    }
  };
  read(() => {
    const q = new URL(href).searchParams;
    read(() => new URL(q.get('url'), href).searchParams);
    read(() => Object.entries(JSON.parse(q.get('up_urlPrefs'))));
    return q;
  });
  return params;
}

// serviceURL returns the service's base URL without a trailing slash, or '' when the value is
// not an absolute http(s) URL (e.g. the unreplaced build placeholder).
export function serviceURL(value) {
  try {
    const u = new URL(String(value ?? '').trim());
    if ((u.protocol !== 'https:' && u.protocol !== 'http:') || u.username || u.password) return '';
    return (u.origin + u.pathname).replace(/\/+$/, '');
  } catch {
    return '';
  }
}

// validURL returns the URL as fetch() sends it when it is an absolute http(s) URL the service
// accepts (no user name or password, at most 2048 bytes), else ''.
export function validURL(s) {
  try {
    const u = new URL(String(s).trim());
    const ok = /^https?:$/.test(u.protocol) && u.hostname && !u.username && !u.password && u.href.length <= 2048;
    return ok ? u.href : '';
  } catch {
    return '';
  }
}

// nodeDefaults picks each target's default nodes from the first source (parameter objects, most
// specific first) that names the target, else the catalogue's own.
export function nodeDefaults(targets, ...sources) {
  const out = {};
  for (const t of targets) {
    const src = sources.find((s) => s && typeof s[t.id] === 'string');
    out[t.id] = src ? parseNodes(src[t.id]).nodes : [...t.nodes];
  }
  return out;
}

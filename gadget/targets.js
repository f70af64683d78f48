// The target catalogue: what to test on each node and the request a real gadget sends there.
// DEFAULT_TARGETS mirrors targets.Defaults() in server/targets; the service's catalogue, when one
// is configured, replaces it.

// Header values are placeholders (Basic "corscheck:probe"): for CORS only names matter.
const AUTHORIZATION = { name: 'Authorization', value: 'Basic Y29yc2NoZWNrOnByb2Jl' };
const GADGET_HEADERS = [AUTHORIZATION, { name: 'locale', value: 'en_US' }, { name: 'peripheralid', value: '5000' }];
const shape = (headers, credentials = 'include') => ({ method: 'GET', headers, credentials });
// A built-in target's kind is its id; it has no default nodes.
const builtin = (id, label, endpoints, request, notes) => ({ id, kind: id, label, endpoints, request, nodes: [], notes });

export const DEFAULT_TARGETS = [
  builtin('cuic', 'CUIC (Unified Intelligence Center)',
    [{ name: 'CUIC 8444', port: 8444, path: '/cuic/rest/status/' }], shape(GADGET_HEADERS),
    'CUIC 12.6(2) and later also serve this on 443; OPTIONS on /cuic/* needs no login there.'),
  builtin('livedata', 'Live Data',
    [{ name: 'Live Data web service', port: 12005, path: '/' }, { name: 'Live Data Socket.IO', port: 12008, path: '/socket.io/' }],
    shape(GADGET_HEADERS),
    'From 12.6(2) Live Data is also served on 443; Live Data gadgets need CUIC CORS too.'),
  builtin('finesse', 'Finesse REST API',
    [{ name: 'Finesse 8445', port: 8445, path: '/finesse/api/SystemInfo' }], shape([AUTHORIZATION])),
  builtin('custom', 'Custom URL', [], shape([], 'same-origin')),
];

// isToken says whether s is an HTTP token, as methods and header names are.
export const isToken = (s) => /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(s);

// validNode follows targets.ValidNode in Go: a host name (letters, digits, - and _ in labels of
// at most 63) or an IP address, never a port or a path. It returns the canonical lower-case
// form, or '' when the value is not a node.
export function validNode(s) {
  const n = s.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (n.length > 253) return '';
  if (n.includes(':')) {
    try {
      return new URL(`http://[${n}]/`).hostname.slice(1, -1);
    } catch {
      return '';
    }
  }
  return n.replace(/\.$/, '').split('.').every((l) => /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/.test(l)) ? n : '';
}

// parseNodes splits a list typed or passed in a URL (commas, semicolons or white space), keeps
// each node once and returns the values that are not nodes separately.
export function parseNodes(text) {
  const nodes = [];
  const invalid = [];
  for (const part of text.split(/[\s,;]+/).filter(Boolean)) {
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
  const read = (entries) => {
    try {
      for (const [k, v] of entries()) if (!(k in params) && typeof v === 'string') params[k] = v;
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

// validURL returns the URL as fetch() sends it when it is an absolute http(s) URL the service
// accepts (no user name or password, at most 2048 bytes), else ''.
export function validURL(s) {
  try {
    const u = new URL(String(s).trim());
    return /^https?:$/.test(u.protocol) && !u.username && !u.password && u.href.length <= 2048 ? u.href : '';
  } catch {
    return '';
  }
}

// serviceURL returns the service's base URL without a trailing slash, or '' when the value is
// not an absolute http(s) URL (e.g. the unreplaced build placeholder).
export const serviceURL = (value) => validURL(value).replace(/\/+$/, '');

// nodeDefaults picks each target's default nodes from the first source (parameter objects, most
// specific first) that names the target, else the catalogue's own.
export function nodeDefaults(targets, ...sources) {
  const out = {};
  for (const t of targets) {
    const src = sources.find((s) => typeof s[t.id] === 'string');
    out[t.id] = src ? parseNodes(src[t.id]).nodes : [...t.nodes];
  }
  return out;
}

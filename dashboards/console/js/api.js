/**
 * The HTTP API client. The session token lives in sessionStorage (one browser tab = one shift;
 * it is gone when the tab closes). A 401 anywhere ends the session and shows the login form.
 */
const KEY = 'fw.token';

export const session = {
  get token() {
    return sessionStorage.getItem(KEY);
  },
  set(token) {
    sessionStorage.setItem(KEY, token);
  },
  clear() {
    sessionStorage.removeItem(KEY);
  },
};

export class ApiError extends Error {
  constructor(status, code, detail, body) {
    super(detail || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

/** api('GET', '/alerts?status=active') → parsed JSON; throws ApiError for non-2xx */
export async function api(method, path, body, opts = {}) {
  const token = opts.token ?? session.token;
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
  const res = await fetch(path.startsWith('/') && !path.startsWith('/api/') && !opts.absolute ? `/api/v1${path}` : path, {
    method,
    headers,
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  if (opts.raw) {
    if (!res.ok) throw new ApiError(res.status, res.status === 404 ? 'not_found' : 'http_error', res.statusText);
    return res;
  }
  const text = await res.text();
  let parsed;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = text;
  }
  if (!res.ok) {
    if (res.status === 401 && !opts.noLogout) window.dispatchEvent(new CustomEvent('fw:unauthorized'));
    throw new ApiError(res.status, parsed?.code, parsed?.detail ?? parsed?.message, parsed);
  }
  return parsed;
}

export const get = (path, opts) => api('GET', path, undefined, opts);
export const post = (path, body = {}, opts) => api('POST', path, body, opts);
export const put = (path, body, opts) => api('PUT', path, body, opts);
export const del = (path, opts) => api('DELETE', path, undefined, opts);

/** Every page of a list endpoint ({ items, nextCursor }). */
export async function getAll(path, max = 10_000) {
  const items = [];
  let cursor = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page = await get(`${path}${sep}limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    items.push(...page.items);
    cursor = page.nextCursor ?? null;
  } while (cursor && items.length < max);
  return items;
}

/** true when an endpoint is simply not there (a feature not deployed), not a missing record */
export function isMissingRoute(err) {
  return err instanceof ApiError && err.status === 404 && /no route/.test(err.message);
}

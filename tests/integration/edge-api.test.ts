/**
 * API edge defects of issue #12, through the wire against the real service:
 * - item 5: a live-feed WebSocket ends (4001) the moment its credential ends or changes meaning —
 *   logout, token revoked, user disabled, deleted, new password, role or scope change, session expiry;
 * - item 10: login throttling slows guessers per account-and-address and per address, without
 *   locking the real user out (distinct source addresses: sockets bound to 127.0.0.x);
 * - item 11: failed bearer tokens are throttled per address (valid tokens are not), security
 *   headers on JSON and pages, Cache-Control: no-store on answers that carry credentials.
 * The only fake is the clock (ManualClock): throttle windows and session expiry are moved by it.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { MqttClient } from 'mqtt';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../services/shared/clock.js';
import { LiveClient } from '../support/live.js';
import { ADMIN_TOKEN, ApiClient, connectDevice, endClient, metricValue, provisionDevice, startService, waitFor, type Provisioned, type TestService } from '../support/service.js';

let svc: TestService;
let clock: ManualClock;
let device: Provisioned; // in b-edge-jfb, street 解放碑
let control: LiveClient; // an admin-token feed: proof that an event was published

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: any;
}

/** One HTTP request from a chosen loopback source address (Linux routes all of 127/8 to lo). */
function httpFrom(localAddress: string, method: string, path: string, opts: { body?: unknown; token?: string } = {}): Promise<Answer> {
  const url = new URL(svc.fw.httpUrl);
  const data = opts.body !== undefined ? JSON.stringify(opts.body) : undefined;
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path,
        method,
        localAddress,
        agent: false,
        headers: {
          ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
          ...(data !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = text ? JSON.parse(text) : null;
          } catch {
            /* keep text */
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

const login = (from: string, username: string, password: string) => httpFrom(from, 'POST', '/api/v1/auth/login', { body: { username, password } });

/** Resolves with the close code and reason; rejects if the socket is still open after `timeoutMs` (a bound, not a measurement). */
function closeOf(c: LiveClient, timeoutMs = 5000): Promise<{ code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    if (c.ws.readyState === WebSocket.CLOSED) return reject(new Error('the socket was already closed'));
    const timer = setTimeout(() => reject(new Error(`the live feed was still open ${timeoutMs} ms after the change`)), timeoutMs);
    c.ws.once('close', (code, reason) => {
      clearTimeout(timer);
      resolve({ code, reason: reason.toString() });
    });
  });
}

/** Connect and disconnect the device: a device.online and a device.offline in 解放碑 / b-edge-jfb; waits until the control feed has both. */
async function pulse(): Promise<number> {
  const from = control.lastSeq();
  const c: MqttClient = await connectDevice(svc.mqttUrl, device);
  await control.next('device.online', (e) => e.seq > from && e.data.deviceId === device.deviceId);
  await endClient(c);
  const off = await control.next('device.offline', (e) => e.seq > from && e.data.deviceId === device.deviceId);
  return off.seq;
}

/** Open a feed, see it receive a pulse (it is in scope), make `change`, then: 4001 with `reason` at once, and nothing after. */
async function expectCutOff(token: string, change: () => Promise<unknown>, reason: string): Promise<void> {
  const feed = await LiveClient.connect(svc.fw.httpUrl, token);
  const seen = await pulse();
  await waitFor(() => feed.events.some((e) => e.seq === seen), 'the feed receives events in its scope');
  const closing = closeOf(feed);
  const before = feed.events.length;
  await change();
  expect(await closing).toEqual({ code: 4001, reason });
  await pulse(); // published after the change: the control feed has it, the cut-off feed does not
  expect(feed.events).toHaveLength(before);
}

let userSeq = 0;
async function newUser(body: Record<string, unknown>): Promise<{ id: string; username: string; password: string; token: string }> {
  const username = `edge.user${++userSeq}`;
  const password = `edge-password-${userSeq}`;
  const created = await svc.api.post('/api/v1/users', { username, password, ...body });
  expect(created.status).toBe(201);
  const r = await login('127.0.0.1', username, password);
  expect(r.status).toBe(200);
  return { id: created.body.id, username, password, token: r.body.token };
}

beforeAll(async () => {
  clock = new ManualClock();
  svc = await startService({}, undefined, { clock });
  device = await provisionDevice(svc.api, { kind: 'water_pressure', point: 'hydrant_top', reportIntervalS: 3600 }, { id: 'b-edge-jfb', name: '大都会东方广场', street: '解放碑', type: 'public', heightM: 180, use: 'complex' });
  control = await LiveClient.connect(svc.fw.httpUrl, ADMIN_TOKEN);
});
afterAll(async () => {
  await control?.close();
  await svc?.stop();
});

describe('item 5: the live feed ends with the credential', () => {
  let bystander: LiveClient; // another user's feed: none of the changes below concern it
  beforeAll(async () => {
    const other = await newUser({ role: 'duty', streets: ['解放碑'] });
    bystander = await LiveClient.connect(svc.fw.httpUrl, other.token);
  });

  it('logout closes the session\'s socket with 4001', async () => {
    const u = await newUser({ role: 'duty', streets: ['解放碑'] });
    await expectCutOff(u.token, async () => expect((await new ApiClient(svc.fw.httpUrl, u.token).post('/api/v1/auth/logout')).status).toBe(204), 'logout');
  });

  it('deleting an API token closes the sockets opened with it', async () => {
    const tok = await svc.api.post('/api/v1/tokens', { name: 'jfb-wall-screen', role: 'duty', streets: ['解放碑'] });
    expect(tok.status).toBe(201);
    await expectCutOff(tok.body.token, async () => expect((await svc.api.delete(`/api/v1/tokens/${tok.body.id}`)).status).toBe(204), 'token_revoked');
  });

  it('disabling the user closes its sockets', async () => {
    const u = await newUser({ role: 'operator', buildingIds: ['b-edge-jfb'] });
    await expectCutOff(u.token, async () => expect((await svc.api.patch(`/api/v1/users/${u.id}`, { disabled: true })).status).toBe(200), 'user_disabled');
  });

  it('a role change closes the socket; the session still works, and a new socket carries the new role', async () => {
    const u = await newUser({ role: 'duty', streets: ['解放碑'] });
    await expectCutOff(u.token, async () => expect((await svc.api.patch(`/api/v1/users/${u.id}`, { role: 'platform' })).status).toBe(200), 'role_changed');
    const again = await LiveClient.connect(svc.fw.httpUrl, u.token);
    expect(again.hello).toMatchObject({ role: 'platform', user: u.username });
    await again.close();
  });

  it('a scope change closes the socket; a new socket sees only the new scope', async () => {
    const u = await newUser({ role: 'duty', streets: ['解放碑'] });
    await expectCutOff(u.token, async () => expect((await svc.api.patch(`/api/v1/users/${u.id}`, { streets: ['七星岗'] })).status).toBe(200), 'scope_changed');
    const again = await LiveClient.connect(svc.fw.httpUrl, u.token);
    expect(again.hello).toMatchObject({ role: 'duty' });
    const seq = await pulse();
    await waitFor(() => control.events.some((e) => e.seq === seq), 'control feed');
    expect(again.events.filter((e) => e.buildingId === 'b-edge-jfb')).toEqual([]);
    await again.close();
  });

  it('a new password and deleting the user close the sockets too', async () => {
    const a = await newUser({ role: 'duty', streets: null });
    await expectCutOff(a.token, async () => expect((await svc.api.patch(`/api/v1/users/${a.id}`, { password: 'a brand new password' })).status).toBe(200), 'password_changed');
    const b = await newUser({ role: 'duty', streets: null });
    await expectCutOff(b.token, async () => expect((await svc.api.delete(`/api/v1/users/${b.id}`)).status).toBe(204), 'user_deleted');
  });

  it('changes that concern nobody on the feed, and the admin token, end nothing', async () => {
    const u = await newUser({ role: 'duty', streets: ['解放碑'] });
    const feed = await LiveClient.connect(svc.fw.httpUrl, u.token);
    // a display name is not a change of what the credential may see
    expect((await svc.api.patch(`/api/v1/users/${u.id}`, { displayName: '周值班' })).status).toBe(200);
    const seq = await pulse();
    await waitFor(() => feed.events.some((e) => e.seq === seq), 'the feed still streams');
    expect(feed.closeCode).toBeUndefined();
    expect(bystander.closeCode).toBeUndefined();
    expect(control.closeCode).toBeUndefined();
    await waitFor(() => bystander.events.some((e) => e.seq === seq), 'the bystander still streams');
    await feed.close();
  });
});

describe('item 10: login throttling slows guessing without locking the real user out', () => {
  const USER = 'zhou.duty';
  const PASSWORD = 'zhou-duty-password';
  const ATTACKER = '127.0.0.2';
  beforeAll(async () => {
    expect((await svc.api.post('/api/v1/users', { username: USER, password: PASSWORD, role: 'duty' })).status).toBe(201);
  });

  it('an address failing 20 times against a user is throttled (429 + Retry-After); the user still logs in from another address at once', async () => {
    const statuses: number[] = [];
    let failures = 0;
    while (failures < 20) {
      const r = await login(ATTACKER, USER, `wrong guess ${failures}`);
      statuses.push(r.status);
      if (r.status === 401) failures++;
      else {
        expect(r.status).toBe(429);
        expect(r.body.code).toBe('too_many_attempts');
        const wait = Number(r.headers['retry-after']);
        expect(wait).toBeGreaterThanOrEqual(1);
        expect(wait).toBeLessThanOrEqual(60);
        clock.advance(wait * 1000); // the attacker waits as told, and keeps guessing
      }
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses).toContain(429);
    // still throttled right now
    const throttled = await login(ATTACKER, USER, 'yet another guess');
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0);
    // the real user, from an address that has not been failing: accepted, no wait
    const real = await login('127.0.0.3', USER, PASSWORD);
    expect(real.status).toBe(200);
    expect(real.body.user.username).toBe(USER);
  });

  it('the real user on the attacker\'s address is at worst delayed (Retry-After ≤ 60 s), not locked out for 900 s', async () => {
    const r = await login(ATTACKER, USER, PASSWORD);
    expect(r.status).toBe(429);
    const wait = Number(r.headers['retry-after']);
    expect(wait).toBeLessThanOrEqual(60);
    clock.advance(wait * 1000);
    const ok = await login(ATTACKER, USER, PASSWORD);
    expect(ok.status).toBe(200);
  });

  it('an address spraying many accounts is throttled; the same accounts from elsewhere are not', async () => {
    const SPRAYER = '127.0.0.4';
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) statuses.push((await login(SPRAYER, `staff${i}`, 'Password123!')).status);
    expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(20).every((s) => s === 429)).toBe(true);
    const r = await login(SPRAYER, USER, PASSWORD); // even a right password waits there, briefly
    expect(r.status).toBe(429);
    expect(Number(r.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect((await login('127.0.0.5', 'staff24', 'Password123!')).status).toBe(401);
    expect((await login('127.0.0.5', USER, PASSWORD)).status).toBe(200);
    const metrics = (await svc.api.get('/metrics')).body as string;
    expect(metricValue(metrics, 'firewatch_auth_failures_total', { method: 'login', result: 'throttled' })).toBeGreaterThan(0);
    expect(metricValue(metrics, 'firewatch_auth_failures_total', { method: 'login', result: 'invalid' })).toBeGreaterThanOrEqual(41);
  });
});

describe('item 11: failed bearer tokens are throttled per address, valid tokens are not', () => {
  const PROBER = '127.0.0.6'; // also where an admin script has used the admin token before
  const guess = (from: string, i: number | string) => httpFrom(from, 'GET', '/api/v1/buildings', { token: `guess-${i}-0123456789abcdef0123456789` });

  it('after 10 wrong tokens an address gets 429 with Retry-After (counted), other addresses still get 401', async () => {
    expect((await httpFrom(PROBER, 'GET', '/api/v1/buildings', { token: ADMIN_TOKEN })).status).toBe(200);
    for (let i = 0; i < 10; i++) expect((await guess(PROBER, i)).status).toBe(401);
    const r = await guess(PROBER, 10);
    expect(r.status).toBe(429);
    expect(r.body.code).toBe('too_many_attempts');
    expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(r.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect((await guess('127.0.0.7', 'elsewhere')).status).toBe(401);
    // no token at all is not a guess
    for (let i = 0; i < 12; i++) expect((await httpFrom('127.0.0.7', 'GET', '/api/v1/buildings')).status).toBe(401);
    const metrics = (await svc.api.get('/metrics')).body as string;
    expect(metricValue(metrics, 'firewatch_auth_failures_total', { method: 'bearer', result: 'invalid' })).toBeGreaterThanOrEqual(11);
    expect(metricValue(metrics, 'firewatch_auth_failures_total', { method: 'bearer', result: 'throttled' })).toBeGreaterThanOrEqual(1);
  });

  it('valid tokens keep working from the throttled address, over HTTP and the live feed', async () => {
    // the admin token where it worked before, and tokens the service issued (even brand-new ones)
    expect((await httpFrom(PROBER, 'GET', '/api/v1/buildings', { token: ADMIN_TOKEN })).status).toBe(200);
    const fresh = await svc.api.post('/api/v1/tokens', { name: 'fresh-platform', role: 'platform' });
    expect((await httpFrom(PROBER, 'GET', '/api/v1/buildings', { token: fresh.body.token })).status).toBe(200);
    expect((await svc.api.post('/api/v1/users', { username: 'prober.user', password: 'prober-password', role: 'platform' })).status).toBe(201);
    const session = await login(PROBER, 'prober.user', 'prober-password');
    expect(session.status).toBe(200);
    expect((await httpFrom(PROBER, 'GET', '/api/v1/auth/me', { token: session.body.token })).status).toBe(200);
    expect((await guess(PROBER, 'still')).status).toBe(429);

    const ws = new WebSocket(`${svc.fw.httpUrl.replace(/^http/, 'ws')}/api/v1/live?token=${ADMIN_TOKEN}`, { localAddress: PROBER });
    const hello = await new Promise<any>((resolve, reject) => {
      ws.once('message', (d) => resolve(JSON.parse(d.toString())));
      ws.once('error', reject);
    });
    expect(hello.type).toBe('hello');
    ws.close();
    const wrong = new WebSocket(`${svc.fw.httpUrl.replace(/^http/, 'ws')}/api/v1/live?token=not-a-token-0123456789abcdef`, { localAddress: PROBER });
    const closed = await new Promise<{ code: number; reason: string }>((resolve) => wrong.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    expect(closed.code).toBe(4029);
    expect(closed.reason).toMatch(/^too_many_attempts retry-after=\d+$/);
  });

  it('from a throttled address the admin token is not even checked unless it worked there before: a lucky guess gets the same 429', async () => {
    const GUESSER = '127.0.0.8';
    for (let i = 0; i < 10; i++) expect((await guess(GUESSER, i)).status).toBe(401);
    const lucky = await httpFrom(GUESSER, 'GET', '/api/v1/buildings', { token: ADMIN_TOKEN });
    const wrong = await guess(GUESSER, 'unlucky');
    expect([lucky.status, lucky.body.code]).toEqual([429, 'too_many_attempts']);
    expect([wrong.status, wrong.body.code]).toEqual([429, 'too_many_attempts']);
    // once the window has passed, it is checked again
    clock.advance(Number(lucky.headers['retry-after']) * 1000);
    expect((await httpFrom(GUESSER, 'GET', '/api/v1/buildings', { token: ADMIN_TOKEN })).status).toBe(200);
  });
});

describe('item 11: security headers and no-store', () => {
  const expectHelmet = (h: Headers | IncomingHttpHeaders) => {
    const get = (k: string) => (h instanceof Headers ? h.get(k) : (h[k] as string | undefined)) ?? null;
    expect(get('x-content-type-options')).toBe('nosniff');
    expect(get('x-frame-options')).toBe('DENY');
    expect(get('referrer-policy')).toBe('no-referrer');
    expect(get('strict-transport-security')).toMatch(/max-age=\d+/);
    expect(get('cross-origin-opener-policy')).toBe('same-origin');
    expect(get('cross-origin-resource-policy')).toBe('same-origin');
    expect(get('x-powered-by')).toBeNull();
    return get('content-security-policy');
  };

  it('JSON answers carry the security headers and a deny-all CSP, errors too', async () => {
    const ok = await svc.api.get('/api/v1/buildings');
    expect(ok.status).toBe(200);
    const csp = expectHelmet(ok.headers);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    const denied = await new ApiClient(svc.fw.httpUrl, undefined).get('/api/v1/buildings');
    expect(denied.status).toBe(401);
    expect(expectHelmet(denied.headers)).toContain("default-src 'none'");
  });

  it('the console and the public safety-code page keep their own CSP (one header each), with the other headers', async () => {
    const consolePage = await fetch(`${svc.fw.httpUrl}/`);
    expect(consolePage.status).toBe(200);
    const csp = expectHelmet(consolePage.headers)!;
    expect(csp.split(', ')).toHaveLength(1);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self' ws: wss:");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("frame-ancestors 'none'");
    const asset = await fetch(`${svc.fw.httpUrl}/console/console.css`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('x-content-type-options')).toBe('nosniff');

    const code = await svc.api.get(`/api/v1/buildings/${device.buildingId}/safety-code`);
    expect(code.status).toBe(200);
    const publicPage = await fetch(`${svc.fw.httpUrl}/s/${code.body.publicId}`);
    expect(publicPage.status).toBe(200);
    const pageCsp = expectHelmet(publicPage.headers)!;
    expect(pageCsp).toContain("style-src 'unsafe-inline'"); // the page's own inline CSS, nothing else
    expect(pageCsp).toContain("default-src 'none'");

    const docs = await fetch(`${svc.fw.httpUrl}/docs`);
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(docs.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('login, token and device-credential answers are never cached, also under a percent-encoded path', async () => {
    expect((await svc.api.post('/api/v1/users', { username: 'nocache.user', password: 'nocache-password', role: 'platform' })).status).toBe(201);
    const u = await login('127.0.0.1', 'nocache.user', 'nocache-password');
    expect(u.status).toBe(200);
    expect(u.body.token).toBeTruthy();
    expect(u.headers['cache-control']).toBe('no-store');
    const encoded = await httpFrom('127.0.0.1', 'POST', '/%61pi/v1/auth/login', { body: { username: 'nocache.user', password: 'nocache-password' } });
    // the router decodes the path, so this is the login route with a session token in the body
    expect(encoded.status).toBe(200);
    expect(encoded.body.token).toBeTruthy();
    expect(encoded.headers['cache-control']).toBe('no-store');
    const tok = await svc.api.post('/api/v1/tokens', { name: 'nocache', role: 'platform' });
    expect(tok.status).toBe(201);
    expect(tok.headers.get('cache-control')).toBe('no-store');
    const created = await svc.api.post('/api/v1/devices', { buildingId: device.buildingId, kind: 'fire_lane' });
    expect(created.status).toBe(201);
    expect(created.body.credentials.password).toBeTruthy();
    expect(created.headers.get('cache-control')).toBe('no-store');
    const rotated = await svc.api.post(`/api/v1/devices/${created.body.id}/credentials`);
    expect(rotated.status).toBe(201);
    expect(rotated.headers.get('cache-control')).toBe('no-store');
  });
});

// last: it moves the clock by a whole session TTL
describe('item 5: session expiry ends the socket on time', () => {
  it('a session socket is closed with 4001 session_expired when the TTL runs out; an admin-token socket stays', async () => {
    const u = await newUser({ role: 'duty', streets: ['解放碑'] });
    const feed = await LiveClient.connect(svc.fw.httpUrl, u.token);
    clock.advance(12 * 3_600_000 - 1000);
    // a second before the end: still streaming
    const seq = await pulse();
    await waitFor(() => feed.events.some((e) => e.seq === seq), 'the feed streams until its session ends');
    const closing = closeOf(feed);
    clock.advance(1000);
    expect(await closing).toEqual({ code: 4001, reason: 'session_expired' });
    expect(control.closeCode).toBeUndefined();
    expect((await new ApiClient(svc.fw.httpUrl, u.token).get('/api/v1/auth/me')).status).toBe(401);
  });
});

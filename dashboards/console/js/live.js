/**
 * The live feed client (GET /api/v1/live, WebSocket). It reconnects by itself with exponential
 * backoff (1 s doubling to 30 s, with jitter) and resumes with ?since=<last seq seen>, so the
 * server replays every event missed while the socket was down, in order, each once.
 *
 * The server's clock: the hello carries `serverTime`, and every live (not replayed) event its
 * `at`; countdowns are computed on the server's time line, not on the browser's clock.
 */
export class LiveFeed {
  constructor({ token, onEvent, onHello, onState }) {
    this.token = token;
    this.onEvent = onEvent;
    this.onHello = onHello;
    this.onState = onState;
    this.lastSeq = null; // null until the first hello: then the first connection takes no `since`
    this.helloSeq = 0;
    this.offsetMs = 0;
    this.synced = false;
    this.attempt = 0;
    this.ws = null;
    this.timer = null;
    this.paused = false;
    this.stopped = false;
    this.urls = []; // every URL connected to (debug and tests)
    this.retryAt = null;
  }

  serverNow() {
    return Date.now() + this.offsetMs;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000, 'bye');
    this.ws = null;
  }

  /** debug hook: drop the socket now (it reconnects with since, unless paused) */
  drop() {
    if (this.ws) this.ws.close(4000, 'dropped by the console');
  }

  pause() {
    this.paused = true;
    clearTimeout(this.timer);
    this.drop();
  }

  resume() {
    this.paused = false;
    if (!this.ws) this.connect();
  }

  connect() {
    if (this.stopped || this.paused) return;
    clearTimeout(this.timer);
    const q = new URLSearchParams({ token: this.token });
    if (this.lastSeq !== null) q.set('since', String(this.lastSeq));
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/live?${q}`;
    this.urls.push(url.replace(/token=[^&]*/, 'token=…'));
    this.onState({ state: 'connecting' });
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.addEventListener('message', (m) => {
      let e;
      try {
        e = JSON.parse(m.data);
      } catch {
        return;
      }
      if (e.type === 'hello') {
        this.attempt = 0;
        this.helloSeq = e.lastSeq;
        if (e.serverTime) this.offsetMs = Date.parse(e.serverTime) - Date.now();
        this.synced = true;
        const first = this.lastSeq === null;
        if (first) this.lastSeq = e.lastSeq;
        this.onState({ state: 'up' });
        this.onHello(e, first);
        return;
      }
      if (typeof e.seq !== 'number' || (this.lastSeq !== null && e.seq <= this.lastSeq)) return;
      this.lastSeq = e.seq;
      // a replayed event's `at` is in the past; only live ones tell the server's time
      if (e.seq > this.helloSeq && e.at) this.offsetMs = Date.parse(e.at) - Date.now();
      this.onEvent(e);
    });
    ws.addEventListener('close', (c) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return;
      if (c.code === 4001) {
        // the reason says why: the credential ended, or (role_changed, scope_changed) it still works
        // but the board must be loaded again under the new scope
        this.onState({ state: 'unauthorized', reason: c.reason });
        return;
      }
      if (this.paused) {
        this.onState({ state: 'down', retryInS: null });
        return;
      }
      // 4008 (fell behind) and our own drop: come back at once; otherwise back off
      const base = c.code === 4008 || c.code === 4000 ? 250 : Math.min(30_000, 1000 * 2 ** this.attempt);
      const delay = Math.round(base * (0.5 + Math.random() / 2));
      this.attempt++;
      this.retryAt = Date.now() + delay;
      this.onState({ state: 'down', retryInS: Math.ceil(delay / 1000), code: c.code });
      this.timer = setTimeout(() => this.connect(), delay);
    });
  }
}

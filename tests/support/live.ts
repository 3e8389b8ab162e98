/** A real WebSocket client of the live feed, collecting events for assertions. */
import WebSocket from 'ws';
import { waitFor } from './service.js';

export interface FeedMessage {
  seq: number;
  type: string;
  at: string;
  street: string | null;
  buildingId: string | null;
  data: any;
}

export class LiveClient {
  readonly events: FeedMessage[] = [];
  hello: { lastSeq: number; role: string; user: string } | undefined;
  closeCode: number | undefined;
  private constructor(readonly ws: WebSocket) {}

  static connect(httpUrl: string, token: string, query: Record<string, string | number> = {}): Promise<LiveClient> {
    const qs = new URLSearchParams({ token, ...Object.fromEntries(Object.entries(query).map(([k, v]) => [k, String(v)])) });
    const ws = new WebSocket(`${httpUrl.replace(/^http/, 'ws')}/api/v1/live?${qs}`);
    const client = new LiveClient(ws);
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString());
      if (msg.type === 'hello') client.hello = msg;
      else client.events.push(msg);
    });
    ws.on('close', (code) => (client.closeCode = code));
    return new Promise((resolve, reject) => {
      ws.once('error', reject);
      ws.once('close', (code) => reject(new Error(`live feed closed: ${code}`)));
      const timer = setInterval(() => {
        if (client.hello) {
          clearInterval(timer);
          ws.removeAllListeners('error');
          resolve(client);
        }
      }, 5);
    });
  }

  of(type: string): FeedMessage[] {
    return this.events.filter((e) => e.type === type);
  }

  async next(type: string, pred: (e: FeedMessage) => boolean = () => true, timeoutMs = 5000): Promise<FeedMessage> {
    return waitFor(() => this.events.find((e) => e.type === type && pred(e)), `feed event ${type}`, timeoutMs, 5);
  }

  lastSeq(): number {
    return this.events.length ? this.events[this.events.length - 1]!.seq : (this.hello?.lastSeq ?? 0);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.ws.readyState === WebSocket.CLOSED) return resolve();
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}

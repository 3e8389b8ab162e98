/**
 * A real HTTP platform for uplink tests (node:http): it accepts, fails (503), hangs (timeout) or
 * refuses (400) on demand, and records every item it accepted, duplicates included.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ReceiverMode = 'ok' | 'fail' | 'hang' | 'reject';

export interface ReceivedBatch {
  headers: IncomingMessage['headers'];
  raw: string;
  body: any;
}

export class UplinkReceiver {
  mode: ReceiverMode = 'ok';
  /** refuse (400) any batch containing an item for which this returns true */
  poison: (item: any) => boolean = () => false;
  readonly accepted: ReceivedBatch[] = [];
  requests = 0;
  private server: Server | undefined;
  private readonly hanging = new Set<ServerResponse>();
  url = '';

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      let raw = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (raw += c));
      req.on('end', () => {
        this.requests++;
        if (this.mode === 'hang') {
          this.hanging.add(res);
          res.on('close', () => this.hanging.delete(res));
          return;
        }
        if (this.mode === 'fail') return void res.writeHead(503).end('maintenance');
        let body: any;
        try {
          body = JSON.parse(raw);
        } catch {
          return void res.writeHead(400).end('not json');
        }
        const items: any[] = body.items ?? body.records ?? [];
        if (this.mode === 'reject' || items.some((i) => this.poison(i))) return void res.writeHead(400).end('bad item');
        this.accepted.push({ headers: req.headers, raw, body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/ingest`;
    return this.url;
  }

  /** every accepted item, in arrival order, duplicates included */
  items(): any[] {
    return this.accepted.flatMap((b) => b.body.items ?? b.body.records ?? []);
  }

  /** first arrival of each id, in arrival order */
  unique(): any[] {
    const seen = new Set<string>();
    return this.items().filter((i) => (seen.has(i.id) ? false : (seen.add(i.id), true)));
  }

  async close(): Promise<void> {
    for (const r of this.hanging) r.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

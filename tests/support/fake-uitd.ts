/**
 * A fake UITD (用户信息传输装置) for the gateway's centre role (issue #14): a real TCP client on the
 * codec that heartbeats so the gateway knows where it is, and answers the centre's commands
 * (control 1, request 4) as its `answer` policy says — confirm, deny, a response with app data, or
 * nothing. It records every command it received, resends included.
 */
import { connect, type Socket } from 'node:net';
import {
  Command,
  FrameSplitter,
  decodeFrame,
  encodeAppData,
  encodeFrame,
  encodeReply,
  encodeUitdOperation,
  type AppDataInput,
  type Frame,
} from '../../services/protocols/gb26875/index.js';
import { waitFor } from './service.js';

export const UITD = 0x3a5;
export const CENTRE = 0x15b38;

/** A UITD on TCP that answers the centre's commands as `answer` says. */
export class FakeUitd {
  /** the centre's commands received, resends included */
  readonly commands: Frame[] = [];
  /** the same commands as the bytes that came */
  readonly raw: Buffer[] = [];
  readonly replies: Frame[] = [];
  /** how to answer a command: a confirm or deny, a response with app data, these very bytes, or nothing */
  answer: (f: Frame) => { command: 3 | 6 } | { command: 5; data: AppDataInput } | { raw: Buffer } | 'silent' = () => ({ command: Command.confirm });
  private readonly splitter = new FrameSplitter();
  private constructor(
    readonly socket: Socket,
    readonly address: number,
  ) {
    socket.on('data', (c: Buffer) => {
      for (const o of this.splitter.push(c)) {
        if (o.kind !== 'frame') continue;
        const d = decodeFrame(o.frame);
        if (!d.ok) continue;
        const f = d.frame;
        if (f.command !== Command.control && f.command !== Command.request) {
          this.replies.push(f);
          continue;
        }
        this.commands.push(f);
        this.raw.push(Buffer.from(o.frame));
        const a = this.answer(f);
        if (a === 'silent') continue;
        if ('raw' in a) socket.write(a.raw);
        else if (a.command === Command.response) {
          socket.write(encodeFrame({ serial: f.serial, version: f.version, time: new Date(), source: f.destination, destination: f.source, command: Command.response, appData: encodeAppData(a.data) }));
        } else socket.write(encodeReply(f, a.command, new Date()));
      }
    });
  }

  static open(port: number, address = UITD): Promise<FakeUitd> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => resolve(new FakeUitd(s, address)));
      s.once('error', reject);
    });
  }

  /** a heartbeat, so the gateway knows where the UITD is */
  async heartbeat(): Promise<void> {
    const n = this.replies.length;
    this.socket.write(encodeFrame({ serial: 1, version: { major: 1, user: 0 }, time: new Date(), source: this.address, destination: CENTRE, command: Command.send_data, appData: new Uint8Array(0) }));
    await waitFor(() => this.replies.length > n || undefined, 'the heartbeat confirmed');
  }

  /** a person pressed the UITD's duty-check answer button: its operation record (type 24, 查岗应答) */
  async answerDutyCheck(): Promise<void> {
    const n = this.replies.length;
    const appData = encodeAppData({ type: 24, objects: [{ operation: encodeUitdOperation({ dutyCheckAnswered: true }), operator: 1, time: new Date() }] });
    this.socket.write(encodeFrame({ serial: 2, version: { major: 1, user: 0 }, time: new Date(), source: this.address, destination: CENTRE, command: Command.send_data, appData }));
    await waitFor(() => this.replies.length > n || undefined, 'the operation record confirmed');
  }

  close(): void {
    this.socket.destroy();
  }
}


/**
 * Firewatch as a monitoring centre towards its UITDs (issue #14): the duty room sends a UITD a clock
 * sync, a duty check (查岗) or a read of its running status, software version, configuration or
 * time (POST /api/v1/devices/{id}/gb26875/commands), and sees the answer — or the timeout after 3
 * tries of GB26875_COMMAND_TIMEOUT_MS (fact 4: 10 s) — on the device page.
 *
 *   command        frame                       expected answer
 *   clock_sync     control 1, type 90 (now)    confirm 3
 *   duty_check     control 1, type 91          confirm 3 (the person answers later, on the UITD)
 *   read_status    request 4, type 81          response 5, type 21
 *   read_version   request 4, type 85          response 5, type 25
 *   read_config    request 4, type 86          response 5, type 26
 *   read_time      request 4, type 88          response 5, type 28
 *   read_analog    request 4, type 63 (system, component address)   response 5, type 3 (its analog values)
 *
 * The last 20 commands per UITD are kept in memory (they are shown, not audited).
 */
import type { Logger } from 'pino';
import { CENTRE_COMMANDS, type CentreCommand, type CentreCommandRecord, type CentreCommands, type CentreCommandTarget } from '../../services/devices/gb26875-points.js';
import { decodeAppData, encodeAppData, type AppDataInput } from '../../services/protocols/gb26875/app-data.js';
import { Command } from '../../services/protocols/gb26875/frame.js';
import type { Clock } from '../../services/shared/clock.js';
import type { Gb26875Listener } from './listener.js';

const KEPT = 20;

interface Spec {
  command: typeof Command.control | typeof Command.request;
  data: (now: Date, target: CentreCommandTarget | undefined) => AppDataInput;
  /** the app-data type of the response (reads); undefined: a confirm is the answer */
  answerType?: 3 | 21 | 25 | 26 | 28;
}

const SPECS: Record<CentreCommand, Spec> = {
  clock_sync: { command: Command.control, data: (now) => ({ type: 90, objects: [{ time: now }] }) },
  duty_check: { command: Command.control, data: () => ({ type: 91, objects: [{ reserved: 0 }] }) },
  read_status: { command: Command.request, data: () => ({ type: 81, objects: [{ reserved: 0 }] }), answerType: 21 },
  read_version: { command: Command.request, data: () => ({ type: 85, objects: [{ reserved: 0 }] }), answerType: 25 },
  read_config: { command: Command.request, data: () => ({ type: 86, objects: [{ reserved: 0 }] }), answerType: 26 },
  read_time: { command: Command.request, data: () => ({ type: 88, objects: [{ reserved: 0 }] }), answerType: 28 },
  read_analog: {
    command: Command.request,
    data: (_now, t) => ({ type: 63, objects: [{ systemType: t!.systemType, systemAddress: t!.systemAddress, address: { zone: t!.zone, position: t!.position } }] }),
    answerType: 3,
  },
};

/** Dates as ISO strings, for the API. */
function plain(o: unknown): Record<string, unknown> {
  return JSON.parse(JSON.stringify(o)) as Record<string, unknown>;
}

export class Gb26875CentreCommands implements CentreCommands {
  private readonly records = new Map<string, CentreCommandRecord[]>();
  private n = 0;

  constructor(
    private readonly deps: {
      listener: Pick<Gb26875Listener, 'sendCommand'>;
      clock: Clock;
      timeoutMs: number;
      tries: number;
      offsetMinutes: number;
      log: Logger;
    },
  ) {}

  async run(deviceId: string, command: CentreCommand, by: string, target?: CentreCommandTarget): Promise<CentreCommandRecord> {
    if (!(CENTRE_COMMANDS as readonly string[]).includes(command)) throw new RangeError(`unknown command ${command}`);
    if (command === 'read_analog' && !target) throw new RangeError('read_analog needs the component (systemType, systemAddress, zone, position)');
    const spec = SPECS[command];
    const now = this.deps.clock.now();
    const sent = await this.deps.listener.sendCommand(deviceId, spec.command, encodeAppData(spec.data(new Date(now), target), this.deps.offsetMinutes), {
      timeoutMs: this.deps.timeoutMs,
      tries: this.deps.tries,
    });
    const record: CentreCommandRecord = {
      id: `cmd-${now.toString(36)}-${++this.n}`,
      deviceId,
      command,
      by,
      sentAt: new Date(now).toISOString(),
      serial: sent.serial,
      attempts: sent.attempts,
      outcome: sent.outcome === 'answered' ? 'unexpected' : sent.outcome,
      answeredAt: null,
      answer: null,
      ...(command === 'read_analog' && target ? { target } : {}),
    };
    const reply = sent.reply;
    if (reply) {
      record.answeredAt = new Date(this.deps.clock.now()).toISOString();
      if (reply.command === Command.deny) record.outcome = 'denied';
      else if (reply.command === Command.confirm && spec.answerType === undefined) record.outcome = 'confirmed';
      else if (reply.command === Command.response && spec.answerType !== undefined) {
        const a = decodeAppData(reply.appData, this.deps.offsetMinutes);
        if (a.ok && a.appData.type === 3 && spec.answerType === 3) {
          // the component's analog values (a detector may report several: temperature, smoke density, …)
          record.outcome = 'answered';
          record.answer = { values: a.appData.objects.map((o) => plain(o)) };
        } else if (a.ok && a.appData.type === spec.answerType && a.appData.objects[0]) {
          record.outcome = 'answered';
          record.answer = plain(a.appData.objects[0]);
        }
      }
    }
    const list = [record, ...(this.records.get(deviceId) ?? [])].slice(0, KEPT);
    this.records.set(deviceId, list);
    this.deps.log.info({ deviceId, command, by, outcome: record.outcome, attempts: record.attempts }, 'GB/T 26875.3 command sent to a UITD');
    return { ...record };
  }

  history(deviceId: string): CentreCommandRecord[] {
    return (this.records.get(deviceId) ?? []).map((r) => ({ ...r }));
  }
}

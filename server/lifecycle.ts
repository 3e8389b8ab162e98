/**
 * One lifecycle for the whole service: parts are started in order and stopped in reverse, each
 * exactly once, from the same list whether the start failed half-way or the service shuts down.
 * (Before, the failure path and `close()` kept two lists, and they had drifted.)
 *
 * A part that fails to stop is logged and the others still stop: a socket that will not close
 * must not leave the database open.
 */
import type { Logger } from 'pino';

export interface Part {
  /** for the log: which part failed to stop */
  readonly name: string;
  stop(): Promise<void> | void;
}

export class Lifecycle {
  private readonly parts: Part[] = [];
  private stopping: Promise<void> | undefined;

  constructor(private readonly log: Logger) {}

  /**
   * Run `start` and, once it succeeded, remember `stop` for the way down. Returns what `start`
   * returned. A part whose start throws is not stopped (it did not start); those before it are,
   * by whoever catches the error and calls `stop()`.
   */
  async start<T>(name: string, start: () => Promise<T> | T, stop: () => Promise<void> | void): Promise<T> {
    if (this.stopping) throw new Error(`cannot start ${name}: the service is stopping`);
    const out = await start();
    this.parts.push({ name, stop });
    return out;
  }

  /** A part that is running already (an open database, a started timer). */
  add(name: string, stop: () => Promise<void> | void): void {
    if (this.stopping) throw new Error(`cannot add ${name}: the service is stopping`);
    this.parts.push({ name, stop });
  }

  /** The names of the running parts, in start order. */
  names(): string[] {
    return this.parts.map((p) => p.name);
  }

  /** Stop every part, last started first. Safe to call more than once: later calls wait for the first. */
  stop(): Promise<void> {
    return (this.stopping ??= (async () => {
      for (const part of this.parts.splice(0).reverse()) {
        try {
          await part.stop();
        } catch (err) {
          this.log.error({ err, part: part.name }, 'a part failed to stop; stopping the others');
        }
      }
    })());
  }
}

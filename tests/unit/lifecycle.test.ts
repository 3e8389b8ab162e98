/** server/lifecycle.ts: parts stop in reverse start order, once, from the same list after a failed start. */
import { describe, expect, it } from 'vitest';
import { Lifecycle } from '../../server/lifecycle.js';
import { createLogger } from '../../services/shared/logger.js';

const quiet = createLogger('silent');

describe('Lifecycle', () => {
  it('stops what started, last first, and returns what start returned', async () => {
    const life = new Lifecycle(quiet);
    const events: string[] = [];
    const port = await life.start('a', () => { events.push('start a'); return 1883; }, () => { events.push('stop a'); });
    await life.start('b', async () => { events.push('start b'); }, async () => { events.push('stop b'); });
    life.add('c', () => { events.push('stop c'); });
    expect(port).toBe(1883);
    expect(life.names()).toEqual(['a', 'b', 'c']);
    await life.stop();
    expect(events).toEqual(['start a', 'start b', 'stop c', 'stop b', 'stop a']);
    expect(life.names()).toEqual([]);
  });

  it('after a failed start, stops only the parts that started, in reverse', async () => {
    const life = new Lifecycle(quiet);
    const stopped: string[] = [];
    await life.start('db', () => undefined, () => { stopped.push('db'); });
    await life.start('log', () => undefined, () => { stopped.push('log'); });
    await expect(life.start('http', () => { throw new Error('EADDRINUSE'); }, () => { stopped.push('http'); })).rejects.toThrow('EADDRINUSE');
    await life.stop();
    expect(stopped).toEqual(['log', 'db']);
  });

  it('a part that fails to stop does not keep the others from stopping', async () => {
    const life = new Lifecycle(quiet);
    const stopped: string[] = [];
    await life.start('db', () => undefined, () => { stopped.push('db'); });
    await life.start('socket', () => undefined, () => { throw new Error('will not close'); });
    await life.start('timer', () => undefined, async () => { stopped.push('timer'); });
    await life.stop();
    expect(stopped).toEqual(['timer', 'db']);
  });

  it('stops once however often stop() is called, and refuses to start anything after', async () => {
    const life = new Lifecycle(quiet);
    let stops = 0;
    await life.start('a', () => undefined, async () => { await new Promise((r) => setTimeout(r, 10)); stops++; });
    await Promise.all([life.stop(), life.stop()]);
    await life.stop();
    expect(stops).toBe(1);
    await expect(life.start('late', () => undefined, () => undefined)).rejects.toThrow(/stopping/);
  });
});

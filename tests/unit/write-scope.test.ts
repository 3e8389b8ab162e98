/**
 * The write scope (services/shared/write-scope.ts) over an asynchronous "database": a journal
 * whose transaction applies its writes after a delay and undoes them all when one throws. The
 * PostgreSQL behaviour is tested through the mirrors (tests/integration/pg-alert-mirror.test.ts,
 * pg-mirrors.test.ts) and the service (postgres-mode.test.ts); this pins down the order of steps.
 */
import { describe, expect, it } from 'vitest';
import { runQueuedUnitOfWork, type RunUnitOfWork } from '../../services/shared/unit-of-work.js';
import { WriteScope } from '../../services/shared/write-scope.js';

const tick = () => new Promise((r) => setTimeout(r, 2));

/** committed values, and a unit of work whose transaction takes a few ms and is all-or-nothing */
function journal(): { committed: string[]; log: string[]; run: RunUnitOfWork } {
  const committed: string[] = [];
  const log: string[] = [];
  const run: RunUnitOfWork = (work) =>
    runQueuedUnitOfWork(work, async (writes) => {
      const before = committed.length;
      log.push('begin');
      try {
        for (const w of writes) {
          await tick();
          await w();
        }
        log.push('commit');
      } catch (err) {
        committed.length = before;
        log.push('rollback');
        throw err;
      }
    });
  return { committed, log, run };
}

describe('WriteScope', () => {
  it('commits what one run queued as one transaction, then runs its afterCommit callbacks', async () => {
    const j = journal();
    const scope = new WriteScope(j.run, { onImplicitError: () => undefined });
    const seen: string[] = [];
    const out = await scope.run(() => {
      expect(scope.inScope).toBe(true);
      scope.write(() => void j.committed.push('a'));
      scope.write(() => void j.committed.push('b'));
      scope.afterCommit(() => seen.push(`after ${j.committed.join(',')}`));
      return 42;
    });
    expect(out).toBe(42);
    expect(scope.inScope).toBe(false);
    expect(j.committed).toEqual(['a', 'b']);
    expect(j.log).toEqual(['begin', 'commit']);
    expect(seen).toEqual(['after a,b']);
  });

  it('runs scopes one at a time in call order: the next one decides only after the one before committed', async () => {
    const j = journal();
    const scope = new WriteScope(j.run, { onImplicitError: () => undefined });
    const decided: string[] = [];
    const first = scope.run(() => {
      decided.push(`first sees ${j.committed.length}`);
      scope.write(() => void j.committed.push('1'));
    });
    const second = scope.run(() => {
      decided.push(`second sees ${j.committed.length}`);
      scope.write(() => void j.committed.push('2'));
    });
    await Promise.all([first, second]);
    expect(decided).toEqual(['first sees 0', 'second sees 1']);
    expect(j.committed).toEqual(['1', '2']);
  });

  it('rolls the whole scope back when a write fails, runs the rollback hooks before the next scope, and runs no afterCommit', async () => {
    const j = journal();
    const scope = new WriteScope(j.run, { onImplicitError: () => undefined });
    const events: string[] = [];
    scope.onRollback(async () => {
      await tick();
      events.push('reloaded');
    });
    const failing = scope.run(() => {
      scope.write(() => void j.committed.push('x'));
      scope.write(() => {
        throw new Error('unique violation');
      });
      scope.afterCommit(() => events.push('pushed'));
    });
    const next = scope.run(() => events.push('next decides'));
    await expect(failing).rejects.toThrow('unique violation');
    await next;
    expect(j.committed).toEqual([]);
    expect(events).toEqual(['reloaded', 'next decides']);
  });

  it('a step that throws commits nothing, and the mirrors reload (they may have applied part of it)', async () => {
    const j = journal();
    const scope = new WriteScope(j.run, { onImplicitError: () => undefined });
    let reloads = 0;
    scope.onRollback(() => void reloads++);
    await expect(
      scope.run(() => {
        scope.write(() => void j.committed.push('half'));
        throw new Error('bug in the step');
      }),
    ).rejects.toThrow('bug in the step');
    expect(j.committed).toEqual([]);
    expect(j.log).toEqual([]);
    expect(reloads).toBe(1);
  });

  it('writes made outside run form one implicit scope per turn, queued behind the scopes before them; its failure goes to onImplicitError', async () => {
    const j = journal();
    const errors: unknown[] = [];
    const scope = new WriteScope(j.run, { onImplicitError: (e) => errors.push(e) });
    const explicit = scope.run(() => scope.write(() => void j.committed.push('explicit')));
    scope.write(() => void j.committed.push('timer 1'));
    scope.write(() => void j.committed.push('timer 2'));
    await explicit;
    await scope.settled();
    expect(j.committed).toEqual(['explicit', 'timer 1', 'timer 2']);
    expect(j.log).toEqual(['begin', 'commit', 'begin', 'commit']);
    scope.write(() => {
      throw new Error('database down');
    });
    await scope.settled();
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toContain('database down');
  });

  it('a run inside a run joins it', async () => {
    const j = journal();
    const scope = new WriteScope(j.run, { onImplicitError: () => undefined });
    await scope.run(() => {
      scope.write(() => void j.committed.push('outer'));
      void scope.run(() => scope.write(() => void j.committed.push('inner')));
    });
    expect(j.committed).toEqual(['outer', 'inner']);
    expect(j.log).toEqual(['begin', 'commit']);
  });
});

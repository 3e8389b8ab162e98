/**
 * Group commit: every accept() made in the same turn of the event loop is written in one
 * transaction, and all of their promises settle together. Packets from one socket read are
 * handled in the same turn by aedes (lib/client.js `enqueue`), so a burst of QoS 1 publishes
 * costs one commit, not one per message.
 */
export class GroupCommit<T> {
  private pending: T[] = [];
  private waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  private scheduled = false;

  constructor(
    private readonly commit: (items: T[]) => void,
    private readonly maxBatch = 10_000,
  ) {}

  add(items: readonly T[]): Promise<void> {
    return new Promise((resolve, reject) => {
      for (const item of items) this.pending.push(item);
      this.waiters.push({ resolve, reject });
      if (this.pending.length >= this.maxBatch) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commit whatever is pending now (also used on close). */
  flush(): void {
    this.scheduled = false;
    if (this.waiters.length === 0) return;
    const items = this.pending;
    const waiters = this.waiters;
    this.pending = [];
    this.waiters = [];
    try {
      if (items.length > 0) this.commit(items);
    } catch (err) {
      for (const w of waiters) w.reject(err);
      return;
    }
    for (const w of waiters) w.resolve();
  }
}

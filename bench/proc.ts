import type { ChildProcess } from 'node:child_process';
/** CPU time and memory of a child process from /proc (Linux). */
import { readFileSync } from 'node:fs';

const CLK_TCK = 100; // USER_HZ on Linux

export interface ProcSample {
  at: number;
  /** user + system CPU seconds so far */
  cpuS: number;
  rssMiB: number;
  /** peak resident set so far */
  hwmMiB: number;
}

export function sampleProc(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the command name "(…)"; utime and stime are fields 14 and 15
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuS = (Number(rest[11]) + Number(rest[12])) / CLK_TCK;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { at: Date.now(), cpuS, rssMiB: kb('VmRSS') / 1024, hwmMiB: kb('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

/** CPU use between two samples, in cores (1.0 = one core busy). */
export function cpuCores(a: ProcSample, b: ProcSample): number {
  return (b.cpuS - a.cpuS) / ((b.at - a.at) / 1000);
}

/** Samples a process every `everyMs` and keeps the peak RSS. */
export class ProcWatcher {
  peakRssMiB = 0;
  last: ProcSample | undefined;
  private timer: NodeJS.Timeout;

  constructor(
    readonly pid: number,
    everyMs = 250,
  ) {
    this.timer = setInterval(() => this.sample(), everyMs);
    this.sample();
  }

  sample(): ProcSample | undefined {
    const s = sampleProc(this.pid);
    if (s) {
      this.last = s;
      this.peakRssMiB = Math.max(this.peakRssMiB, s.rssMiB);
    }
    return s;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** Wait until a just-spawned service answers /readyz 200; its stderr tail explains a failure. */
export async function waitReady(child: ChildProcess, httpUrl: string, stderr: () => string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`firewatch exited ${child.exitCode}: ${stderr()}`);
    try {
      if ((await fetch(`${httpUrl}/readyz`, { signal: AbortSignal.timeout(1000) })).status === 200) return;
    } catch {
      /* starting */
    }
    if (Date.now() > deadline) throw new Error(`firewatch did not become ready: ${stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Run `fn` every `ms` in the background (unref'd); a failure goes to `onError` and is tried again at
 * the next interval, a success to `onOk` (so an outage can be reported once and its end too). An
 * `fn` that returns a promise (an asynchronous store) is waited for: a tick while it runs is skipped,
 * so two runs never overlap.
 */
export function every(ms: number, fn: () => void | Promise<void>, onError: (err: unknown) => void, onOk: () => void): NodeJS.Timeout {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    let out: void | Promise<void>;
    try {
      out = fn();
    } catch (err) {
      onError(err);
      return;
    }
    if (!out) return onOk();
    running = true;
    out.then(
      () => {
        running = false;
        onOk();
      },
      (err: unknown) => {
        running = false;
        onError(err);
      },
    );
  }, ms);
  timer.unref();
  return timer;
}

/**
 * Run `fn` every `ms` in the background (unref'd); a failure goes to `onError` and is tried again at
 * the next interval, a success to `onOk` (so an outage can be reported once and its end too).
 */
export function every(ms: number, fn: () => void, onError: (err: unknown) => void, onOk: () => void): NodeJS.Timeout {
  const timer = setInterval(() => {
    try {
      fn();
      onOk();
    } catch (err) {
      onError(err);
    }
  }, ms);
  timer.unref();
  return timer;
}

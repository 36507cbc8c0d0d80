/**
 * Runs `pass` every `everyMs` until stopped; a failed pass goes to `onError` and the next one tries
 * again. Passes never overlap (a slow one delays the next), and `stop` waits for the one running.
 */
export function runEvery(everyMs: number, pass: () => Promise<unknown>, onError: (err: Error) => void): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    running = pass()
      .catch(onError)
      .finally(() => void (busy = false));
  }, everyMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}

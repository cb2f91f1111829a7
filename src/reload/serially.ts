/** Runs `task` only after its previous run has finished: reloads one at a time, in the order asked. */
export function serially<T>(task: () => Promise<T>): () => Promise<T> {
  let last: Promise<unknown> = Promise.resolve();
  return () => {
    const next = last.then(task, task);
    last = next.catch(() => undefined);
    return next;
  };
}

// Everything the bench starts (servers, agents, fleets, relays) is stopped when its part ends, and
// also when the bench is interrupted (Ctrl-C, or a CI runner's SIGTERM): nothing is left running.

export type Stoppable = { stop(): Promise<void> };

const live = new Set<Stoppable>();

/** Runs `body` with `resource`, then stops the resource, however `body` ends. */
export async function stoppedAfter<T extends Stoppable, R>(resource: T, body: (resource: T) => Promise<R>): Promise<R> {
  live.add(resource);
  try {
    return await body(resource);
  } finally {
    live.delete(resource);
    await resource.stop();
  }
}

/** On SIGINT or SIGTERM: stop whatever is running, then exit. */
export function stopAllOnSignal(): void {
  const onSignal = (signal: NodeJS.Signals): void => {
    console.error(`bench: ${signal}: stopping ${live.size} running part(s)`);
    void Promise.allSettled([...live].map((resource) => resource.stop())).then(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
}

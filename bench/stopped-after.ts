// Everything the bench starts (servers, agents, fleets, relays) is stopped when its part ends, and
// also when the bench is interrupted (Ctrl-C, a CI runner's SIGTERM) or fails where nothing catches
// it: nothing is left running.

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

/** On SIGINT or SIGTERM, or an error nothing caught: stop whatever is running, then exit. */
export function stopAllOnSignal(): void {
  let stopping = false;
  const stopAll = (why: string, code: number): void => {
    if (stopping) return;
    stopping = true;
    console.error(`bench: ${why}: stopping ${live.size} running part(s)`);
    void Promise.allSettled([...live].map((resource) => resource.stop())).then(() => process.exit(code));
  };
  process.once("SIGINT", () => stopAll("SIGINT", 130));
  process.once("SIGTERM", () => stopAll("SIGTERM", 143));
  // A socket error no part was waiting for must not leave a dev server or a fleet behind.
  process.on("uncaughtException", (error) => {
    console.error("bench: uncaught:", error);
    stopAll("uncaught error", 1);
  });
  process.on("unhandledRejection", (error) => {
    console.error("bench: unhandled rejection:", error);
    stopAll("unhandled rejection", 1);
  });
}

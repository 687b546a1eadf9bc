import type { LogStorage } from "../../party/task-room/log-store.ts";

/**
 * An in-memory stand-in for Durable Object storage's get/put/list, ordered by key like the real one.
 * It records every put, so tests can check what a write carried (and that it carried nothing more).
 */
export class MapStorage implements LogStorage {
  readonly data = new Map<string, unknown>();
  /** The entries of each put, in order, as they were written. */
  readonly writes: Array<Record<string, unknown>> = [];

  /** How many list calls were made: how tests tell a read from memory from one from storage. */
  lists = 0;

  /** How many puts were made. */
  get puts(): number {
    return this.writes.length;
  }

  async get<T>(key: string): Promise<T | undefined> {
    return structuredClone(this.data.get(key)) as T | undefined;
  }

  async put(entries: Record<string, unknown>): Promise<void> {
    this.writes.push(structuredClone(entries));
    for (const [key, value] of Object.entries(entries)) this.data.set(key, structuredClone(value));
  }

  async list<T>(options: {
    prefix: string;
    start?: string;
    end?: string;
    limit?: number;
    reverse?: boolean;
  }): Promise<Map<string, T>> {
    this.lists++;
    const { prefix, start, end } = options;
    let keys = [...this.data.keys()].filter((key) => key.startsWith(prefix)).sort();
    if (start !== undefined) keys = keys.filter((key) => key >= start);
    if (end !== undefined) keys = keys.filter((key) => key < end);
    if (options.reverse) keys.reverse();
    if (options.limit !== undefined) keys = keys.slice(0, options.limit);
    return new Map(keys.map((key) => [key, structuredClone(this.data.get(key)) as T]));
  }
}

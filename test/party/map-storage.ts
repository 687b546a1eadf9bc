import type { LogStorage } from "../../party/task-room/log-store.ts";

/** An in-memory stand-in for Durable Object storage's get/put/list, ordered by key like the real one. */
export class MapStorage implements LogStorage {
  readonly data = new Map<string, unknown>();
  puts = 0;

  async get<T>(key: string): Promise<T | undefined> {
    return structuredClone(this.data.get(key)) as T | undefined;
  }

  async put(entries: Record<string, unknown>): Promise<void> {
    this.puts++;
    for (const [key, value] of Object.entries(entries)) this.data.set(key, structuredClone(value));
  }

  async list<T>(options: { prefix: string; start?: string; end?: string; limit?: number; reverse?: boolean }): Promise<Map<string, T>> {
    let keys = [...this.data.keys()].filter((key) => key.startsWith(options.prefix)).sort();
    if (options.start !== undefined) keys = keys.filter((key) => key >= (options.start as string));
    if (options.end !== undefined) keys = keys.filter((key) => key < (options.end as string));
    if (options.reverse) keys.reverse();
    if (options.limit !== undefined) keys = keys.slice(0, options.limit);
    return new Map(keys.map((key) => [key, structuredClone(this.data.get(key)) as T]));
  }
}

import type { z } from "zod";
import { describeIssues, type Result } from "../protocol/index.ts";

// Storage reads parsed with their schema (docs/rooms.md "Stored records"): what storage holds was
// written by an older build, or by hand, or half-written, so a room reads it like any other input.
// A record that does not parse is a typed `corrupt` fault, logged here once; never a crash. Each room
// decides what a corrupt record means (skip it, start it afresh, or refuse the request).

/** A stored record that does not parse with its schema. */
export type StorageFault = { code: "corrupt"; key: string; message: string };

/** The reads these helpers need of Durable Object storage (a room's `room.storage`, or a test's map). */
export type RecordStorage = {
  get(key: string): Promise<unknown>;
  list(options: {
    prefix: string;
    start?: string;
    end?: string;
    limit?: number;
    reverse?: boolean;
  }): Promise<Map<string, unknown>>;
};

export type ListOptions = { prefix: string; start?: string; end?: string; limit?: number; reverse?: boolean };

/**
 * Parses one stored value; a value that does not parse is a logged `corrupt` fault naming `where` (the room) and the
 * key.
 */
export function parseStored<T>(
  where: string,
  key: string,
  value: unknown,
  schema: z.ZodType<T>,
): Result<T, StorageFault> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data };
  const fault: StorageFault = {
    code: "corrupt",
    key,
    message: `stored ${key} is corrupt (${describeIssues(parsed.error)})`,
  };
  console.error(`${where}: ${fault.message}`);
  return { ok: false, error: fault };
}

/** One record: undefined when the key holds nothing, the parsed value, or a `corrupt` fault. */
export async function readStored<T>(
  storage: RecordStorage,
  where: string,
  key: string,
  schema: z.ZodType<T>,
): Promise<Result<T | undefined, StorageFault>> {
  const value = await storage.get(key);
  return value === undefined ? { ok: true, value: undefined } : parseStored(where, key, value, schema);
}

/** A range of records, parsed: those that parse, in key order, and a fault for each that does not. */
export async function listStored<T>(
  storage: RecordStorage,
  where: string,
  options: ListOptions,
  schema: z.ZodType<T>,
): Promise<{ records: Map<string, T>; corrupt: StorageFault[] }> {
  const records = new Map<string, T>();
  const corrupt: StorageFault[] = [];
  for (const [key, value] of await storage.list(options)) {
    const parsed = parseStored(where, key, value, schema);
    if (parsed.ok) records.set(key, parsed.value);
    else corrupt.push(parsed.error);
  }
  return { records, corrupt };
}

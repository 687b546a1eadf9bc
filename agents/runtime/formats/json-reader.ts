// Reading a CLI's JSON without trusting it. Schemas of these CLIs change from version to version
// (docs/cli-formats.md), so every accessor returns undefined for a field that is missing or of another type,
// and nothing here throws.

/** A JSON object as read from a CLI: fields are unknown until an accessor checks them. */
export type JsonObject = Readonly<Record<string, unknown>>;

/** The value of a JSON text, or undefined when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** One line that holds a JSON object; undefined for anything else (blank lines, warnings, hook output). */
export function parseJsonObject(line: string): JsonObject | undefined {
  const trimmed = line.trim();
  return trimmed.startsWith("{") ? asObject(parseJson(trimmed)) : undefined;
}

export function asObject(value: unknown): JsonObject | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as JsonObject) : undefined;
}

export function str(from: JsonObject | undefined, key: string): string | undefined {
  const value = from?.[key];
  return typeof value === "string" ? value : undefined;
}

export function num(from: JsonObject | undefined, key: string): number | undefined {
  const value = from?.[key];
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** A token count: a non-negative integer, 0 when absent. */
export function count(from: JsonObject | undefined, key: string): number {
  const value = num(from, key);
  return value === undefined || value < 0 ? 0 : Math.round(value);
}

export function bool(from: JsonObject | undefined, key: string): boolean | undefined {
  const value = from?.[key];
  return typeof value === "boolean" ? value : undefined;
}

export function obj(from: JsonObject | undefined, key: string): JsonObject | undefined {
  return asObject(from?.[key]);
}

/** An array field; empty when absent. */
export function list(from: JsonObject | undefined, key: string): readonly unknown[] {
  const value = from?.[key];
  return Array.isArray(value) ? value : [];
}

/** The string items of an array field. */
export function strings(from: JsonObject | undefined, key: string): string[] {
  return list(from, key).filter((item): item is string => typeof item === "string");
}

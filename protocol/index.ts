// The single source of truth for every wire of the mesh. Imports nothing from Node or workerd.
export * from "./version.ts";
export * from "./errors.ts";
export * from "./limits.ts";
export * from "./ladder.ts";
export * from "./acceptance.ts";
export * from "./task.ts";
export * from "./task-request.ts";
export * from "./agent-wire.ts";
export * from "./agent-record.ts";
export * from "./viewer-wire.ts";
export * from "./room-commands.ts";
export * from "./executors-file.ts";
export * from "./rates.ts";
export * from "./budget.ts";
export * from "./parse.ts";
export * from "./result.ts";
export * from "./rooms.ts";

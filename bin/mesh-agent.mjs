#!/usr/bin/env node
// The `mesh-agent` bin: loads TypeScript through tsx, then runs the agent CLI.
import { register } from "tsx/esm/api";

register();
await import("../agents/cli.ts");

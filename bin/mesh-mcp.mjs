#!/usr/bin/env node
// The `mesh-mcp` bin: runs the built MCP stdio bridge (dist/, made by `npm run build`, which `npm install` runs).
import { runBuilt } from "./run-built.mjs";

await runBuilt("mesh-mcp.js");

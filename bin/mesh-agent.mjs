#!/usr/bin/env node
// The `mesh-agent` bin: runs the built agent (dist/, made by `npm run build`, which `npm install` runs).
import { runBuilt } from "./run-built.mjs";

await runBuilt("mesh-agent.js");

#!/usr/bin/env node
// The MCP stdio bridge as a package bin: runs bridge/stdio-bridge.ts under tsx.
import { register } from "tsx/esm/api";

register();
await import("../bridge/stdio-bridge.ts");

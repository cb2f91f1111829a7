#!/usr/bin/env node
// The protoc/buf plugin that emits Protogate's route tables and OpenAPI document.
import { register as registerTsx } from "tsx/esm/api";

registerTsx();
const { runPlugin } = await import("../codegen/plugin.ts");
await runPlugin(process.stdin, process.stdout);

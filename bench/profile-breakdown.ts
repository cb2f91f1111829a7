// Prints the per-stage CPU breakdown of a .cpuprofile (`node --cpu-prof`) of the gateway under
// load: self time per stage (bench/profile-stages.ts), its share of the gateway's own CPU, and µs
// per request when the request count is given (and, with --cpu-us, each share of the CPU per
// request measured from /proc over the same window: the profiler's clock is wall time, so on a
// busy machine its own µs include time other processes took). Shares are robust to that.
// Usage: profile-breakdown.ts FILE.cpuprofile [--requests N] [--cpu-us US] [--from-us T --to-us T] [--top] [--json]
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { attributeProfile, formatBreakdown, formatTopFrames, STAGES, type CpuProfile, type TimeWindow } from "./profile-stages.js";

const { values, positionals } = parseArgs({
  options: { requests: { type: "string" }, "from-us": { type: "string" }, "to-us": { type: "string" }, "cpu-us": { type: "string" }, json: { type: "boolean", default: false }, top: { type: "boolean", default: false } },
  allowPositionals: true,
});
const [file] = positionals;
if (file === undefined || positionals.length !== 1) {
  console.error("usage: profile-breakdown.ts FILE.cpuprofile [--requests N] [--cpu-us US] [--from-us T --to-us T] [--top] [--json]");
  process.exit(2);
}
// Boundary: the file is V8's JSON; only the fields CpuProfile names are read.
const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
const requests = values.requests === undefined ? undefined : Number(values.requests);
let window: TimeWindow | undefined;
if (values["from-us"] !== undefined || values["to-us"] !== undefined) {
  window = { fromUs: Number(values["from-us"] ?? profile.startTime), toUs: Number(values["to-us"] ?? profile.endTime) };
  if (window.fromUs < profile.startTime || window.toUs > profile.endTime || window.fromUs >= window.toUs) {
    console.error(`the window ${window.fromUs}-${window.toUs} µs is not inside the profile (${profile.startTime}-${profile.endTime} µs)`);
    process.exit(2);
  }
}
const breakdown = attributeProfile(profile, window);
if (values.json) {
  console.log(JSON.stringify({ file, requests, window, ...breakdown }));
} else {
  console.log(`${file}: ${breakdown.samples} samples over ${(breakdown.wallUs / 1e6).toFixed(1)} s, ${(breakdown.busyUs / 1e6).toFixed(2)} s busy${requests !== undefined ? `, ${requests} requests` : ""}`);
  console.log(formatBreakdown(breakdown, requests, values["cpu-us"] === undefined ? undefined : Number(values["cpu-us"])));
  // The largest functions of every stage with --top; else only of "other" (what the table does not know yet).
  console.log(`\n${formatTopFrames(breakdown, values.top ? STAGES : ["other"], requests)}`);
}

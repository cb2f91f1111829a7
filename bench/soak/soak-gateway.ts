import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { stringify } from "yaml";
import { spawnNode, type ChildHandle, type CpuAffinity } from "../child-process.js";
import { createProbeClient, GATEWAY_PROBE, type ProbeClient } from "./probe-client.js";

const PROTOGATE_BIN = fileURLToPath(new URL("../../bin/protogate.js", import.meta.url));
const GENERATED_DIR = fileURLToPath(new URL("../../generated", import.meta.url));
const START_TIMEOUT_MS = 30_000;

/** The gateway under soak: its process, its URL and its probe. */
export interface SoakGateway {
  readonly process: ChildHandle;
  readonly pid: number;
  readonly url: string;
  readonly probe: ProbeClient;
  /** Log lines at level error or above (pino level >= 50) that the gateway wrote so far. */
  errorLog(): { readonly count: number; readonly first: readonly string[] };
}

const PINO_ERROR_LEVEL = 50;
const KEPT_ERROR_LINES = 5;

/** What the soak's gateway is started with. */
export interface SoakGatewaySettings {
  /** Folder for its gateway.yaml. */
  readonly dir: string;
  /** gateway.yaml keys (auth, rateLimits, ...), written to a file as `protogate serve --config` reads it. */
  readonly config: Record<string, unknown>;
  readonly backendAddress: string;
  readonly services: readonly string[];
  readonly affinity?: CpuAffinity;
}

/**
 * Starts `protogate serve` (its real entry point, bin/protogate.js) in a process of its own, with
 * the soak's probe preloaded (`--import`) and an IPC channel for it, and waits until it listens.
 */
export async function startSoakGateway(settings: SoakGatewaySettings): Promise<SoakGateway> {
  const configFile = join(settings.dir, "gateway.yaml");
  // Per-request logging off, as in the bench: the soak measures the gateway, not its log volume.
  writeFileSync(configFile, stringify({ logging: { level: "warn" }, admin: { enabled: false }, ...settings.config }));
  const upstreams = settings.services.flatMap((service) => ["--upstream", `${service}=${settings.backendAddress}`]);
  const args = ["--import", pathToFileURL(GATEWAY_PROBE).href, PROTOGATE_BIN, "serve", "--config", configFile, "--generated", GENERATED_DIR, ...upstreams, "--host", "127.0.0.1", "--port", "0"];
  const child = spawnNode("gateway", args, settings.affinity, { ipc: true });
  try {
    const [, url] = await child.waitFor(/protogate listening on (http:\/\/\S+)/, START_TIMEOUT_MS);
    const probe = createProbeClient(child.child);
    const errors = watchErrorLines(child);
    if ((await probe.read(5_000)) === undefined) throw new Error("the gateway's probe did not answer (was it preloaded?)");
    return { process: child, pid: child.child.pid ?? 0, url, probe, errorLog: () => ({ count: errors.count, first: errors.first }) };
  } catch (error) {
    await child.stop();
    throw error;
  }
}

/** Counts the gateway's JSON log lines at level error or above, on stdout and stderr (a healthy soak has none). */
function watchErrorLines(child: ChildHandle): { count: number; first: string[] } {
  const seen = { count: 0, first: [] as string[] };
  for (const stream of [child.child.stdout, child.child.stderr]) {
    let pending = "";
    stream?.on("data", (chunk: string) => {
      const lines = (pending + chunk).split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        if (!line.startsWith("{")) continue;
        let level: unknown;
        try {
          level = (JSON.parse(line) as { level?: unknown }).level;
        } catch {
          continue;
        }
        if (typeof level === "number" && level >= PINO_ERROR_LEVEL) {
          seen.count++;
          if (seen.first.length < KEPT_ERROR_LINES) seen.first.push(line.slice(0, 400));
        }
      }
    });
  }
  return seen;
}

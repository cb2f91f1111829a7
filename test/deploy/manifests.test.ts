import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join, posix } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { ADMIN_PATHS } from "../../src/admin/admin-paths.js";
import { SERVING_NODE_FLAGS } from "../../src/cli/node-flags.js";
import { configFromObject } from "../../src/config/load-config.js";
import type { GatewayConfig } from "../../src/config/schema.js";
import {
  cpuMillis,
  execForm,
  finalStageInstruction,
  findObject,
  flagValue,
  isKubeObject,
  KUBERNETES_DIR,
  memoryBytes,
  parseDockerfile,
  readManifestFiles,
  ROOT,
  type KubeObject,
} from "./deploy-files.js";

// The Dockerfile, deploy/docker/gateway.yaml and deploy/kubernetes/ must agree with each other and
// with the gateway itself (its config schema, admin paths and serving flags): a change to one side
// that breaks the other fails here. Nothing here needs docker or a cluster.

interface Probe {
  readonly httpGet?: { readonly path: string; readonly port: string | number };
}
interface Container {
  readonly name: string;
  readonly args?: string[];
  readonly ports: { readonly name: string; readonly containerPort: number }[];
  readonly startupProbe?: Probe;
  readonly livenessProbe?: Probe;
  readonly readinessProbe?: Probe;
  readonly lifecycle?: { readonly preStop?: { readonly exec?: { readonly command: string[] } } };
  readonly resources: { readonly requests: Record<string, string>; readonly limits: Record<string, string> };
  readonly securityContext: { readonly allowPrivilegeEscalation?: boolean; readonly readOnlyRootFilesystem?: boolean; readonly capabilities?: { readonly drop?: string[] } };
  readonly volumeMounts: { readonly name: string; readonly mountPath: string; readonly readOnly?: boolean }[];
}
interface PodSpec {
  readonly terminationGracePeriodSeconds: number;
  readonly securityContext: { readonly runAsNonRoot?: boolean; readonly runAsUser?: number; readonly runAsGroup?: number };
  readonly affinity?: {
    readonly podAntiAffinity?: { readonly requiredDuringSchedulingIgnoredDuringExecution?: { readonly topologyKey: string; readonly labelSelector: { readonly matchLabels: Record<string, string> } }[] };
  };
  readonly containers: Container[];
  readonly volumes: { readonly name: string; readonly configMap?: { readonly name: string }; readonly emptyDir?: object }[];
}
interface Deployment extends KubeObject {
  readonly spec: {
    readonly replicas: number;
    readonly selector: { readonly matchLabels: Record<string, string> };
    readonly strategy: { readonly type: string; readonly rollingUpdate: { readonly maxUnavailable: number | string; readonly maxSurge: number | string } };
    readonly template: { readonly metadata: { readonly labels: Record<string, string> }; readonly spec: PodSpec };
  };
}
interface Service extends KubeObject {
  readonly spec: { readonly selector: Record<string, string>; readonly ports: { readonly name: string; readonly port: number; readonly targetPort: string | number }[] };
}
interface ConfigMap extends KubeObject {
  readonly data: Record<string, string>;
}
interface Kustomization {
  readonly resources?: string[];
  readonly components?: string[];
}

const manifestFiles = readManifestFiles();
const dockerfile = parseDockerfile(readFileSync(join(ROOT, "Dockerfile"), "utf8"));
const dockerConfigFile = join(ROOT, "deploy", "docker", "gateway.yaml");

const deployment = findObject<Deployment>(manifestFiles, "Deployment", "protogate");
const pod = deployment.spec.template.spec;
const gatewayContainer = pod.containers.find((container) => container.name === "protogate") ?? pod.containers[0];
const configMap = findObject<ConfigMap>(manifestFiles, "ConfigMap", "protogate-config");
const service = findObject<Service>(manifestFiles, "Service", "protogate");

/** The config path the image serves (its CMD's `--config`). */
const imageConfigPath = flagValue(execForm(finalStageInstruction(dockerfile, "CMD").rest), "--config");
/** The config path the Deployment serves (its args' `--config`). */
const podConfigPath = flagValue(gatewayContainer.args ?? [], "--config");
const configMount = gatewayContainer.volumeMounts.find((mount) => mount.mountPath === posix.dirname(podConfigPath));
/** The ConfigMap's gateway.yaml, validated by the gateway's own loader (throws naming the bad key). */
const clusterConfig = once(() => validConfig(configMap.data[posix.basename(podConfigPath)], "the ConfigMap's gateway.yaml"));
/** The config baked into the image. */
const imageConfig = once(() => validConfig(readFileSync(dockerConfigFile, "utf8"), "deploy/docker/gateway.yaml"));

function validConfig(text: string | undefined, label: string): Readonly<GatewayConfig> {
  if (text === undefined) throw new Error(`${label} is missing`);
  return configFromObject(parse(text), {}, label);
}

/** Computed when a test first asks, so a bad config fails the tests that read it, by name. */
function once<T>(compute: () => T): () => T {
  let value: { readonly result: T } | undefined;
  return () => (value ??= { result: compute() }).result;
}

/** The container port a probe or Service names (by port name or number). */
function containerPort(port: string | number): number {
  if (typeof port === "number") return port;
  const named = gatewayContainer.ports.find((candidate) => candidate.name === port);
  if (named === undefined) throw new Error(`no container port named ${port}`);
  return named.containerPort;
}

/** Dockerfile `COPY` destinations by source (`COPY [--from=x] SRC... DEST`). */
function copyDestination(source: string): string {
  const lastFrom = dockerfile.map((instruction) => instruction.keyword).lastIndexOf("FROM");
  for (const instruction of dockerfile.slice(lastFrom)) {
    if (instruction.keyword !== "COPY") continue;
    const words = instruction.rest.split(/\s+/).filter((word) => !word.startsWith("--"));
    if (words.slice(0, -1).includes(source)) return words[words.length - 1].replace(/(.)\/$/, "$1");
  }
  throw new Error(`the Dockerfile's final stage does not COPY ${source}`);
}

const seconds = (ms: number) => ms / 1000;

describe("deploy/kubernetes manifests", () => {
  it.each(manifestFiles.map((file) => [file.path, file] as const))("%s parses as YAML into Kubernetes objects (or one kustomization)", (path, file) => {
    expect(file.errors).toEqual([]);
    expect(file.documents.length).toBeGreaterThan(0);
    for (const document of file.documents) {
      if (basename(path) === "kustomization.yaml") expect(document).toMatchObject({ apiVersion: expect.stringMatching(/^kustomize\.config\.k8s\.io\//), kind: expect.stringMatching(/^(Kustomization|Component)$/) });
      else expect(isKubeObject(document), JSON.stringify(document).slice(0, 120)).toBe(true);
    }
  });

  const kustomizationDirs = manifestFiles.filter((file) => basename(file.path) === "kustomization.yaml").map((file) => dirname(file.path));
  it("has a base, the redis component and an example overlay", () => {
    expect(kustomizationDirs.sort()).toEqual(["base", "components/redis", "overlays/example"]);
  });

  it.each(kustomizationDirs)("%s/kustomization.yaml lists every manifest in its folder, and only files that exist", (dir) => {
    const folder = join(KUBERNETES_DIR, dir);
    const kustomization = parse(readFileSync(join(folder, "kustomization.yaml"), "utf8")) as Kustomization;
    const listed = [...(kustomization.resources ?? []), ...(kustomization.components ?? [])];
    for (const entry of listed) expect(existsSync(join(folder, entry)), `${dir}: ${entry}`).toBe(true);
    const files = readdirSync(folder).filter((name) => /\.ya?ml$/.test(name) && name !== "kustomization.yaml");
    const listedFiles = listed.filter((entry) => statSync(join(folder, entry)).isFile());
    expect(listedFiles.sort()).toEqual(files.sort());
  });
});

describe("the gateway's config in the ConfigMap and in the image", () => {
  it.each([
    ["ConfigMap", clusterConfig],
    ["image", imageConfig],
  ] as const)("the %s's gateway.yaml validates against the gateway's config schema", (_where, config) => {
    expect(() => config()).not.toThrow();
  });

  it.each([
    ["ConfigMap", clusterConfig],
    ["image", imageConfig],
  ] as const)("%s: both listeners bind every interface (probes and the Service come from outside the pod)", (_where, config) => {
    expect(config().server.host).toBe("0.0.0.0");
    expect(config().admin).toMatchObject({ enabled: true, host: "0.0.0.0" });
  });

  it("the ConfigMap names its upstreams by cluster DNS names, never loopback", () => {
    const addresses = Object.values(clusterConfig().upstreams).map((upstream) => (typeof upstream === "string" ? upstream : upstream.address));
    expect(addresses.length).toBeGreaterThan(0);
    for (const address of addresses) expect(address).toMatch(/^[a-z0-9-]+(\.[a-z0-9-]+)*\.svc\.cluster\.local:\d+$/);
  });

  it("the generated folder is one absolute path, outside the config mount, where the image puts it", () => {
    const imageGenerated = copyDestination("generated/");
    expect(clusterConfig().generated).toBe(imageGenerated);
    expect(imageConfig().generated).toBe(imageGenerated);
    expect(isAbsolute(clusterConfig().generated)).toBe(true);
    expect(clusterConfig().generated.startsWith(`${configMount?.mountPath}/`)).toBe(false);
  });
});

describe("ports", () => {
  it.each([
    { listener: "public", port: (config: Readonly<GatewayConfig>) => config.server.port, containerPortName: "http" },
    { listener: "admin", port: (config: Readonly<GatewayConfig>) => config.admin.port, containerPortName: "admin" },
  ])("the $listener port is the same in the ConfigMap, the image's config, the container and EXPOSE", ({ port, containerPortName }) => {
    const exposed = finalStageInstruction(dockerfile, "EXPOSE").rest.split(/\s+/).map(Number);
    expect(port(clusterConfig())).toBe(containerPort(containerPortName));
    expect(port(imageConfig())).toBe(port(clusterConfig()));
    expect(exposed).toContain(port(clusterConfig()));
  });

  it("EXPOSE names exactly the two listeners", () => {
    const exposed = finalStageInstruction(dockerfile, "EXPOSE").rest.split(/\s+/).map(Number);
    expect(exposed.sort()).toEqual([imageConfig().server.port, imageConfig().admin.port].sort());
  });

  it("the Service targets the public port and does not expose the admin port", () => {
    expect(service.spec.ports.map((port) => containerPort(port.targetPort))).toEqual([clusterConfig().server.port]);
    expect(service.spec.selector).toEqual(deployment.spec.template.metadata.labels);
  });
});

describe("probes and health checks", () => {
  it.each([
    { probe: "readinessProbe", path: ADMIN_PATHS.ready },
    { probe: "livenessProbe", path: ADMIN_PATHS.health },
    { probe: "startupProbe", path: ADMIN_PATHS.health },
  ] as const)("$probe asks the admin listener for $path", ({ probe, path }) => {
    const httpGet = gatewayContainer[probe]?.httpGet;
    expect(httpGet?.path).toBe(path);
    expect(containerPort(httpGet?.port ?? "none")).toBe(clusterConfig().admin.port);
  });

  it("the image's HEALTHCHECK asks the admin listener of its config for /healthz", () => {
    const healthcheck = finalStageInstruction(dockerfile, "HEALTHCHECK").rest;
    const url = /http:\/\/127\.0\.0\.1:(\d+)(\/[^'"\s]*)/.exec(healthcheck);
    expect(url, healthcheck).not.toBeNull();
    expect(Number(url?.[1])).toBe(imageConfig().admin.port);
    expect(url?.[2]).toBe(ADMIN_PATHS.health);
  });
});

describe("shutdown: preStop, pre-stop delay, drain and grace period", () => {
  const preStop = gatewayContainer.lifecycle?.preStop?.exec?.command ?? [];

  it("the preStop hook sleeps for server.preStopDelayMs, which is set", () => {
    expect(preStop).toHaveLength(2);
    expect(preStop[0]).toBe("sleep");
    expect(clusterConfig().server.preStopDelayMs).toBeGreaterThan(0);
    expect(Number(preStop[1])).toBe(seconds(clusterConfig().server.preStopDelayMs));
  });

  it("terminationGracePeriodSeconds outlasts the preStop sleep, the pre-stop delay and the drain", () => {
    // kubelet runs preStop, then sends SIGTERM; the gateway then serves for preStopDelayMs and
    // drains for up to drainTimeoutMs. SIGKILL comes at the grace period, counted from the start.
    const needed = Number(preStop[1]) + seconds(clusterConfig().server.preStopDelayMs) + seconds(clusterConfig().server.drainTimeoutMs);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(needed);
  });
});

describe("the config path", () => {
  it("the Deployment serves the image's config path, from the ConfigMap mounted at its folder", () => {
    expect(podConfigPath).toBe(imageConfigPath);
    expect(copyDestination("deploy/docker/gateway.yaml")).toBe(imageConfigPath);
    expect(configMount).toMatchObject({ mountPath: posix.dirname(imageConfigPath), readOnly: true });
    const volume = pod.volumes.find((candidate) => candidate.name === configMount?.name);
    expect(volume?.configMap?.name).toBe(configMap.metadata.name);
    expect(Object.keys(configMap.data)).toContain(posix.basename(imageConfigPath));
  });
});

describe("the image", () => {
  it("starts node with the serving flags of src/cli/node-flags.ts, then bin/protogate.js", () => {
    const entrypoint = execForm(finalStageInstruction(dockerfile, "ENTRYPOINT").rest);
    expect(entrypoint[0]).toBe("node");
    const script = entrypoint.findIndex((arg) => arg.endsWith("/bin/protogate.js"));
    expect(script).toBeGreaterThan(0);
    expect(entrypoint.slice(1, script)).toEqual(expect.arrayContaining([...SERVING_NODE_FLAGS]));
  });

  it("runs as the numeric non-root user the pod's securityContext names", () => {
    const [user, group] = finalStageInstruction(dockerfile, "USER").rest.split(":").map(Number);
    expect(user).toBeGreaterThan(0);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: user, runAsGroup: group });
  });

  it("installs production dependencies only, with no install scripts", () => {
    const installs = dockerfile.filter((instruction) => instruction.keyword === "RUN" && instruction.rest.includes("npm ci"));
    expect(installs.some((instruction) => instruction.rest.includes("--omit=dev"))).toBe(true);
    for (const install of installs) expect(install.rest).toContain("--ignore-scripts");
  });
});

describe("the Deployment's availability and hardening", () => {
  const labels = deployment.spec.template.metadata.labels;

  it("runs 3 replicas, rolls one new pod in before an old one goes", () => {
    expect(deployment.spec.replicas).toBe(3);
    expect(deployment.spec.selector.matchLabels).toEqual(labels);
    expect(deployment.spec.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
  });

  it("requires its replicas on different nodes", () => {
    const terms = pod.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
    expect(terms).toContainEqual({ topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: labels } });
  });

  it("requests no more than its limits, for CPU and memory", () => {
    const { requests, limits } = gatewayContainer.resources;
    expect(cpuMillis(requests.cpu)).toBeLessThanOrEqual(cpuMillis(limits.cpu));
    expect(memoryBytes(requests.memory)).toBeLessThanOrEqual(memoryBytes(limits.memory));
  });

  it.each(manifestFiles.flatMap((file) => file.documents).filter((document): document is Deployment => isKubeObject(document) && document.kind === "Deployment").map((object) => [object.metadata.name, object] as const))(
    "%s: non-root, read-only root filesystem, no capabilities, no privilege escalation",
    (_name, object) => {
      expect(object.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
      for (const container of object.spec.template.spec.containers) {
        expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
      }
    },
  );

  it("the PodDisruptionBudget and the HorizontalPodAutoscaler are about this Deployment", () => {
    const budget = findObject<KubeObject & { spec: { selector: { matchLabels: Record<string, string> }; maxUnavailable?: number } }>(manifestFiles, "PodDisruptionBudget", "protogate");
    expect(budget.spec.selector.matchLabels).toEqual(labels);
    expect(budget.spec.maxUnavailable).toBeLessThan(deployment.spec.replicas);
    const autoscaler = findObject<KubeObject & { spec: { scaleTargetRef: object; minReplicas: number; maxReplicas: number; metrics: { resource?: { name: string } }[] } }>(
      manifestFiles,
      "HorizontalPodAutoscaler",
      "protogate",
    );
    expect(autoscaler.apiVersion).toBe("autoscaling/v2");
    expect(autoscaler.spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: deployment.metadata.name });
    expect(autoscaler.spec.minReplicas).toBe(deployment.spec.replicas);
    expect(autoscaler.spec.maxReplicas).toBeGreaterThan(autoscaler.spec.minReplicas);
    expect(autoscaler.spec.metrics.map((metric) => metric.resource?.name)).toEqual(["cpu"]);
    // Utilization is a share of the request: without a CPU request the HPA cannot scale.
    expect(gatewayContainer.resources.requests.cpu).toBeDefined();
  });
});

describe("Redis for shared rate limits", () => {
  it("the gateway's rate limits use the Redis Service of components/redis", () => {
    const redis = findObject<Service>(manifestFiles, "Service", "protogate-redis");
    expect(clusterConfig().rateLimits.store).toBe("redis");
    expect(clusterConfig().rateLimits.redis.nodes).toEqual([`${redis.metadata.name}:${redis.spec.ports[0].port}`]);
    const redisDeployment = findObject<Deployment>(manifestFiles, "Deployment", "protogate-redis");
    expect(redis.spec.selector).toEqual(redisDeployment.spec.template.metadata.labels);
  });
});

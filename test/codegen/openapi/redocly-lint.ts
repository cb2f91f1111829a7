import { createConfig, lintFromString, type Config } from "@redocly/openapi-core";

/**
 * Redocly's `recommended-strict` rules (every recommended rule an error), less three that are
 * house style rather than validity, each off on purpose:
 * - no-empty-servers: servers are optional; without them viewers call the document's own origin,
 *   which is the gateway serving it (`generate --openapi-server` adds some);
 * - info-license: a license is the API owner's to state (the openapiv2_swagger option can);
 * - operation-4xx-response: every operation documents its errors as the `default` response (a
 *   google.rpc.Status for any status), which covers the 4xx ones.
 */
const RULES_OFF = ["no-empty-servers", "info-license", "operation-4xx-response"] as const;

let config: Promise<Config> | undefined;

/** Redocly's problems with an OpenAPI document (an object or its JSON), as `severity rule pointer: message`; none means it is valid. */
export async function redoclyLint(document: unknown): Promise<string[]> {
  config ??= createConfig({ extends: ["recommended-strict"], rules: Object.fromEntries(RULES_OFF.map((rule) => [rule, "off"])) });
  const source = typeof document === "string" ? document : JSON.stringify(document);
  const problems = await lintFromString({ source, absoluteRef: "/openapi.json", config: await config });
  return problems.map((p) => `${p.severity} ${p.ruleId} ${p.location[0]?.pointer ?? ""}: ${p.message}`);
}

import { GenerateError } from "../../codegen/run-generate.js";
import { ConfigError } from "../config/load-config.js";
import { GeneratedFolderError } from "../load-generated.js";
import { AdminListenError } from "../admin/admin-server.js";
import { GraphqlConfigError, GraphqlSchemaError } from "../graphql/graphql-route.js";

/**
 * The one-line message for an error a user can cause (a bad config, a missing folder, a port in
 * use), naming the cause and the fix; undefined for anything else (a bug: the caller prints
 * "internal error" and, with --debug, the stack).
 */
export function userErrorMessage(error: unknown): string | undefined {
  if (error instanceof GenerateError || error instanceof ConfigError || error instanceof GeneratedFolderError) return error.message;
  if (error instanceof GraphqlConfigError || error instanceof GraphqlSchemaError) return error.message;
  if (error instanceof AdminListenError) {
    const problem = systemErrorMessage(error.listenError, "--admin-port (or admin.port; admin.enabled: false turns the admin listener off)");
    return problem === undefined ? undefined : `admin listener: ${problem}`;
  }
  return systemErrorMessage(error, "--port (or server.port)");
}

/** A listen or name-resolution failure, naming the flag that moves the listener. */
function systemErrorMessage(error: unknown, portFlag: string): string | undefined {
  const { code, address, port, syscall } = (error ?? {}) as { code?: unknown; address?: unknown; port?: unknown; syscall?: unknown };
  const where = address === undefined ? `port ${String(port)}` : port === undefined || port === 0 ? String(address) : `${String(address)}:${String(port)}`;
  if (syscall === "listen") {
    if (code === "EADDRINUSE") return `cannot listen on ${where}: the port is in use; pick another with ${portFlag}, or stop what uses it`;
    if (code === "EADDRNOTAVAIL") return `cannot listen on ${where}: ${String(address)} is not an address of this machine; use --host 127.0.0.1, 0.0.0.0 or one of its addresses`;
    if (code === "EACCES") return `cannot listen on ${where}: permission denied (ports below 1024 need privileges); pick a port above 1023`;
  }
  if (syscall === "getaddrinfo" && (code === "ENOTFOUND" || code === "EAI_AGAIN")) return `cannot resolve the listen address ${String((error as { hostname?: unknown }).hostname)}; use an IP address or a name this machine resolves`;
  return undefined;
}

import { pino, type Logger } from "pino";
import type { GatewayConfig } from "./config/schema.js";

export type GatewayLogger = Logger;

/**
 * The gateway's logger (pino, as Fastify uses): JSON lines on stderr, because stdout carries
 * only the ready line that scripts parse. Created before the server so that start-up parts
 * (the rate-limit store) log through it too.
 */
export function createLogger(level: GatewayConfig["logging"]["level"]): GatewayLogger {
  return pino({ level }, process.stderr);
}

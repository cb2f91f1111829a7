import { expect } from "vitest";
import { UpstreamError } from "../../../src/upstream/upstream-error.js";
import type { UpstreamStream } from "../../../src/upstream/upstream.js";

/** The rejection of `promise`, which must be an `UpstreamError`. */
export async function rejection(promise: Promise<unknown>): Promise<UpstreamError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(UpstreamError);
    return error as UpstreamError;
  }
  throw new Error("expected a rejection");
}

/** Every message of a stream that ends with OK. */
export async function readAll(stream: UpstreamStream): Promise<Buffer[]> {
  const messages: Buffer[] = [];
  for (let message = await stream.read(); message !== undefined; message = await stream.read()) messages.push(Buffer.from(message));
  return messages;
}

/** Fails generation with a message meant for the user: one line naming the cause and the fix, no stack trace. */
export class GenerateError extends Error {
  override name = "GenerateError";
}

/**
 * An integer literal from a JSON text that a JS number cannot hold exactly (beyond 2^53).
 * `parseJsonText` produces it instead of a rounded number so a 64-bit field given
 * `9007199254740993` unquoted gets exactly that value; everywhere else it reads as a number.
 */
export class LosslessInteger {
  constructor(readonly text: string) {}

  toJSON(): number {
    return Number(this.text);
  }
}

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Corrections to ts-proto's output, applied by `protogate generate` to the files it writes (and
 * by the test fixtures' generate scripts). Each one replaces an exact piece of ts-proto's text;
 * when that text is not found, generation fails, so a ts-proto upgrade cannot drop a fix
 * silently (the new output must then be checked and the fix adjusted or removed).
 */

interface TextFix {
  /** Path of the generated file, relative to the output folder. */
  readonly file: string;
  readonly why: string;
  readonly find: string;
  readonly replace: string;
}

const FIXES: readonly TextFix[] = [
  {
    // `object[key] = ...` with the key "__proto__" sets the object's prototype (or does nothing,
    // for a primitive) instead of creating a property: a Struct key "__proto__" from an upstream
    // vanished from the response. JSON.parse and the gateway's codec keep it as an own property.
    file: "google/protobuf/struct.ts",
    why: 'Struct.unwrap must keep a "__proto__" key as data',
    find: "        object[key] = message.fields.get(key);\n",
    replace:
      '        // protogate: an own property even for "__proto__" (assignment would set the prototype instead).\n' +
      '        if (key === "__proto__") {\n' +
      "          globalThis.Object.defineProperty(object, key, { value: message.fields.get(key), enumerable: true, writable: true, configurable: true });\n" +
      "        } else {\n" +
      "          object[key] = message.fields.get(key);\n" +
      "        }\n",
  },
];

/**
 * Returns `source` (the content of generated file `file`) with the fixes for that file applied.
 * Throws when a fix's text is not found exactly once.
 */
export function fixTsProtoFile(file: string, source: string): string {
  let fixed = source;
  for (const fix of FIXES) {
    if (fix.file !== file) continue;
    const at = fixed.indexOf(fix.find);
    if (at === -1 || fixed.indexOf(fix.find, at + 1) !== -1) {
      throw new Error(`${file}: ts-proto's output changed, so the fix "${fix.why}" (codegen/ts-proto-fixes.ts) no longer applies; check the new output and update the fix`);
    }
    fixed = fixed.slice(0, at) + fix.replace + fixed.slice(at + fix.find.length);
  }
  return fixed;
}

/** The generated files some fix applies to. */
export const FIXED_FILES: ReadonlySet<string> = new Set(FIXES.map((f) => f.file));

/** Applies the fixes in place to a folder ts-proto wrote (the test fixtures' generate scripts). */
export function fixTsProtoFolder(dir: string): void {
  for (const file of FIXED_FILES) {
    const path = join(dir, file);
    if (existsSync(path)) writeFileSync(path, fixTsProtoFile(file, readFileSync(path, "utf8")));
  }
}

// Node module-resolution hook (plain JS: it runs in the loader thread before tsx applies).
// Code that `protogate generate` writes into a folder outside this package imports
// `@bufbuild/protobuf` and `@grpc/grpc-js` by bare name; such a folder has no node_modules, so a
// bare specifier that fails to resolve from its importer is resolved again from protogate's own
// root. Everything else resolves exactly as Node would.
const protogateRoot = new URL("../../package.json", import.meta.url).href;

function isBare(specifier) {
  return !/^(?:[./]|[a-zA-Z][a-zA-Z\d+.-]*:)/.test(specifier);
}

export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    if (!isBare(specifier) || error?.code !== "ERR_MODULE_NOT_FOUND") throw error;
    return nextResolve(specifier, { ...context, parentURL: protogateRoot });
  }
}

import { getOption, hasOption, type DescFile, type FileRegistry } from "@bufbuild/protobuf";
import type { OpenApiInfo } from "./openapi-types.js";

/** grpc-gateway's file option for its OpenAPI v2 generator (protoc-gen-openapiv2/options/annotations.proto). */
export const SWAGGER_OPTION = "grpc.gateway.protoc_gen_openapiv2.options.openapiv2_swagger";

/** What the document takes from a proto file's `openapiv2_swagger` option. */
export interface ProtoDocumentOptions {
  readonly info: Partial<OpenApiInfo>;
  readonly servers: readonly string[];
  /** The file carrying the option. */
  readonly file: string;
}

// The fields read from the option's messages (grpc-gateway's Swagger, Info, Contact and License),
// by their JSON-style local names; proto3 leaves absent strings empty.
interface SwaggerShape {
  readonly info?: {
    readonly title: string;
    readonly description: string;
    readonly termsOfService: string;
    readonly version: string;
    readonly contact?: { readonly name: string; readonly url: string; readonly email: string };
    readonly license?: { readonly name: string; readonly url: string };
  };
  readonly host: string;
  readonly basePath: string;
  /** Enum Scheme: UNKNOWN 0, HTTP 1, HTTPS 2, WS 3, WSS 4. */
  readonly schemes: readonly number[];
}

const SCHEMES: ReadonlyMap<number, string> = new Map([
  [1, "http"],
  [2, "https"],
]);

/**
 * The `openapiv2_swagger` option of the first file (by name) among `files` that has one; undefined
 * when none does or the protos never import grpc-gateway's options (Protogate ships no copy: a
 * team that uses them has the file in its proto folder). Swagger 2's `host`, `base_path` and
 * `schemes` become server URLs: one per HTTP(S) scheme, `https` when none is given, and the base
 * path alone (a URL relative to the document) without a host.
 */
export function readSwaggerOption(registry: FileRegistry, files: readonly DescFile[]): ProtoDocumentOptions | undefined {
  const extension = registry.getExtension(SWAGGER_OPTION);
  if (extension === undefined) return undefined;
  const file = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).find((f) => hasOption(f, extension));
  if (file === undefined) return undefined;
  // Boundary: the option's message type is only known at run time (it comes from the
  // CodeGeneratorRequest), so its value is typed by the shape read from it.
  const swagger = getOption(file, extension) as unknown as SwaggerShape;
  const info = swagger.info;
  const contact = info?.contact && dropEmpty({ name: info.contact.name, url: info.contact.url, email: info.contact.email });
  const license = info?.license && info.license.name !== "" ? dropEmpty({ name: info.license.name, url: info.license.url }) : undefined;
  return {
    info: dropEmpty({
      title: info?.title,
      version: info?.version,
      description: info?.description,
      termsOfService: info?.termsOfService,
      ...(contact && Object.keys(contact).length > 0 ? { contact } : {}),
      ...(license ? { license: license as { name: string; url?: string } } : {}),
    }),
    servers: serverUrls(swagger),
    file: file.proto.name,
  };
}

function serverUrls(swagger: SwaggerShape): string[] {
  const basePath = swagger.basePath === "/" ? "" : swagger.basePath.replace(/\/$/, "");
  if (swagger.host === "") return basePath === "" ? [] : [basePath];
  const schemes = swagger.schemes.map((s) => SCHEMES.get(s)).filter((s) => s !== undefined);
  return [...new Set(schemes.length === 0 ? ["https"] : schemes)].map((scheme) => `${scheme}://${swagger.host}${basePath}`);
}

/** The object without its empty-string and undefined values. */
function dropEmpty<T extends Record<string, unknown>>(record: T): Partial<T> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined && value !== "")) as Partial<T>;
}

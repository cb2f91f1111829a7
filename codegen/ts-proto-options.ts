/**
 * The ts-proto options `protogate generate` always passes. They are a contract with the runtime:
 * the JSON codec reads and writes exactly this object shape (property = the field's json_name,
 * 64-bit integers as decimal strings, Timestamp as {seconds, nanos}, maps as `Map`, bytes as
 * Buffer), so they are not configurable.
 */
export const TS_PROTO_OPTIONS: readonly string[] = [
  "esModuleInterop=true",
  "importSuffix=.js",
  "useJsonName=true",
  "forceLong=string",
  "useDate=false",
  "useMapType=true",
  "oneof=properties",
  "outputServices=grpc-js",
  "outputJsonMethods=false",
  "outputPartialMethods=false",
  "env=node",
];

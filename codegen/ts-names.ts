/** The module ts-proto writes for a proto file (`demo/v1/user.proto` -> `demo/v1/user`). */
export function tsProtoModule(protoFileName: string): string {
  return protoFileName.replace(/\.proto$/, "");
}

import { describe, expect, it } from "vitest";
import { GenerateError } from "../../codegen/run-generate.js";
import { userErrorMessage } from "../../src/cli/user-errors.js";
import { ConfigError } from "../../src/config/load-config.js";
import { GeneratedFolderError } from "../../src/load-generated.js";

const listenError = (code: string, address: string, port: number) => Object.assign(new Error(`listen ${code}`), { code, address, port, syscall: "listen" });

describe("userErrorMessage", () => {
  it.each([
    ["a port in use", listenError("EADDRINUSE", "127.0.0.1", 8080), "cannot listen on 127.0.0.1:8080: the port is in use; pick another with --port (or server.port), or stop what uses it"],
    ["an address of another machine", listenError("EADDRNOTAVAIL", "10.9.9.9", 0), "cannot listen on 10.9.9.9: 10.9.9.9 is not an address of this machine; use --host 127.0.0.1, 0.0.0.0 or one of its addresses"],
    ["a privileged port", listenError("EACCES", "0.0.0.0", 80), "cannot listen on 0.0.0.0:80: permission denied (ports below 1024 need privileges); pick a port above 1023"],
    ["a listen host that does not resolve", Object.assign(new Error("getaddrinfo ENOTFOUND nohost"), { code: "ENOTFOUND", syscall: "getaddrinfo", hostname: "nohost" }), "cannot resolve the listen address nohost; use an IP address or a name this machine resolves"],
    ["a config error", new ConfigError("server.port: Too big"), "server.port: Too big"],
    ["a missing generated folder", new GeneratedFolderError("gen has no index.js; run `protogate generate --out gen` first"), "gen has no index.js; run `protogate generate --out gen` first"],
    ["a generate error", new GenerateError("no .proto files under protos"), "no .proto files under protos"],
  ])("%s is one line naming the cause and the fix", (_name, error, message) => {
    expect(userErrorMessage(error)).toBe(message);
  });

  it("anything else is not a user error (the CLI says internal error, the stack only with --debug)", () => {
    expect(userErrorMessage(new TypeError("x is undefined"))).toBeUndefined();
    expect(userErrorMessage(undefined)).toBeUndefined();
  });
});

import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, connect, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { defaultMaxConnections, guardConnections, peerAddress, type ConnectionGuard, type RefusalReason } from "../../src/http/connection-guard.js";

let server: Server | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A TCP server whose own connection listener echoes "hi"; the guard sits in front of it. */
async function guarded(maxConnections: number, maxConnectionsPerIp: number, trusted = false) {
  const refused: RefusalReason[] = [];
  const accepted: Socket[] = [];
  server = createServer((socket) => {
    accepted.push(socket);
    socket.write("hi");
  });
  const guard: ConnectionGuard = guardConnections(server, { maxConnections, maxConnectionsPerIp }, {
    isTrustedPeer: () => trusted,
    refuse: (socket, reason) => {
      refused.push(reason);
      socket.end("refused");
    },
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  const open = () =>
    new Promise<string>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      sockets.push(socket);
      socket.once("data", (data) => resolve(data.toString()));
    });
  return { guard, refused, accepted, open };
}

describe("guardConnections", () => {
  it("refuses connections over the per-address cap before the server's own listener sees them", async () => {
    const { guard, refused, accepted, open } = await guarded(100, 3);
    expect(await Promise.all([open(), open(), open()])).toEqual(["hi", "hi", "hi"]);
    expect(await open()).toBe("refused");
    expect(refused).toEqual(["client"]);
    expect(accepted).toHaveLength(3);
    expect(guard.openFrom("127.0.0.1")).toBe(3);
  });

  it("refuses connections over the total cap", async () => {
    const { refused, open } = await guarded(2, 0);
    await open();
    await open();
    expect(await open()).toBe("refused");
    expect(refused).toEqual(["server"]);
  });

  it("frees a slot when a connection closes", async () => {
    const { guard, accepted, open } = await guarded(1, 0);
    await open();
    expect(await open()).toBe("refused");
    const closed = new Promise((resolve) => accepted[0].once("close", resolve));
    sockets[0].destroy();
    await closed;
    expect(guard.open()).toBe(0);
    expect(await open()).toBe("hi");
  });

  it("exempts trusted proxies from the per-address cap, not from the total one", async () => {
    const { open } = await guarded(3, 1, true);
    expect(await Promise.all([open(), open(), open()])).toEqual(["hi", "hi", "hi"]);
    expect(await open()).toBe("refused");
  });
});

describe("peerAddress", () => {
  it.each([
    ["::ffff:10.1.2.3", "10.1.2.3"],
    ["10.1.2.3", "10.1.2.3"],
    ["::1", "::1"],
    [undefined, ""],
  ])("%s -> %s", (remoteAddress, expected) => {
    expect(peerAddress({ remoteAddress })).toBe(expected);
  });
});

describe("defaultMaxConnections", () => {
  const limitsFile = (line: string) => {
    const file = join(mkdtempSync(join(tmpdir(), "pg-limits-")), "limits");
    writeFileSync(file, `Limit                     Soft Limit           Hard Limit           Units\n${line}\nMax processes             63432                63432                processes\n`);
    return file;
  };

  it("is 80% of the soft open-file limit", () => {
    expect(defaultMaxConnections(limitsFile("Max open files            1024                 524288               files"))).toBe(819);
  });

  it.each([["Max open files            unlimited            unlimited            files"], ["nothing useful"]])("falls back to 10,000 when the limit is unknown (%s)", (line) => {
    expect(defaultMaxConnections(limitsFile(line))).toBe(10_000);
  });

  it("falls back to 10,000 without a limits file", () => {
    expect(defaultMaxConnections("/nonexistent/limits")).toBe(10_000);
  });
});

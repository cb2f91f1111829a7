import fc from "fast-check";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { describe, expect, it } from "vitest";
import { decodeRpcStatus, encodeRpcStatus, type RpcStatus } from "../../src/errors/rpc-status.js";

function bytes(...values: number[]): Uint8Array {
  return Uint8Array.from(values);
}

describe("decodeRpcStatus", () => {
  it("decodes hand-encoded wire bytes", () => {
    // code=5, message="nf", details=[Any{type_url="t/x", value=0x01 0x02}]
    const wire = bytes(0x08, 0x05, 0x12, 0x02, 0x6e, 0x66, 0x1a, 0x09, 0x0a, 0x03, 0x74, 0x2f, 0x78, 0x12, 0x02, 0x01, 0x02);
    const status = decodeRpcStatus(wire);
    expect(status.code).toBe(5);
    expect(status.message).toBe("nf");
    expect(status.details).toHaveLength(1);
    expect(status.details[0].typeUrl).toBe("t/x");
    expect([...status.details[0].value]).toEqual([1, 2]);
  });

  it("decodes an empty message as the defaults", () => {
    expect(decodeRpcStatus(new Uint8Array(0))).toEqual({ code: 0, message: "", details: [] });
  });

  it("skips unknown fields in Status and Any", () => {
    const any = new BinaryWriter().tag(9, WireType.Varint).uint32(7).tag(1, WireType.LengthDelimited).string("u").finish();
    const wire = new BinaryWriter()
      .tag(15, WireType.LengthDelimited).string("ignored")
      .tag(1, WireType.Varint).int32(3)
      .tag(4, WireType.Bit64).fixed64(1n)
      .tag(3, WireType.LengthDelimited).bytes(any)
      .finish();
    const status = decodeRpcStatus(wire);
    expect(status.code).toBe(3);
    expect(status.details.map((d) => d.typeUrl)).toEqual(["u"]);
  });

  it.each([
    ["truncated length", bytes(0x12, 0x05, 0x61)],
    ["truncated varint", bytes(0x08, 0xff)],
    ["invalid UTF-8 message", bytes(0x12, 0x01, 0xff)],
  ])("throws on %s", (_name, wire) => {
    expect(() => decodeRpcStatus(wire)).toThrow();
  });

  it("round-trips encodeRpcStatus", () => {
    const detail = fc.record({ typeUrl: fc.string(), value: fc.uint8Array({ maxLength: 64 }) });
    const status = fc.record({ code: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), message: fc.string({ unit: "grapheme" }), details: fc.array(detail, { maxLength: 4 }) });
    fc.assert(
      fc.property(status, (input: RpcStatus) => {
        const output = decodeRpcStatus(encodeRpcStatus(input));
        expect(output.code).toBe(input.code);
        expect(output.message).toBe(input.message);
        expect(output.details.map((d) => ({ typeUrl: d.typeUrl, value: [...d.value] }))).toEqual(input.details.map((d) => ({ typeUrl: d.typeUrl, value: [...d.value] })));
      }),
    );
  });

  it("never crashes other than by throwing an Error on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (wire) => {
        try {
          decodeRpcStatus(wire);
        } catch (error) {
          expect(error).toBeInstanceOf(Error);
        }
      }),
    );
  });
});

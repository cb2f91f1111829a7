import { describe, expect, it } from "vitest";
import { httpStatusFromCode } from "../../src/errors/http-status.js";
import { parserErrorResponse, type ParserError } from "../../src/http/parser-errors.js";

const parserError = (code: string, packet?: string): ParserError => Object.assign(new Error(code), { code, rawPacket: packet === undefined ? undefined : Buffer.from(packet, "latin1") });

describe("parserErrorResponse", () => {
  it.each([
    ["regression: a header timeout answers 408, not 400", parserError("ERR_HTTP_REQUEST_TIMEOUT"), 408, "PG_ERR_REQUEST_TIMEOUT"],
    ["headers over the limit", parserError("HPE_HEADER_OVERFLOW", "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + "y".repeat(20_000)), 431, "PG_ERR_HEADERS_TOO_LARGE"],
    ["regression: a request line over the URL limit answers 414, not 431", parserError("HPE_HEADER_OVERFLOW", "GET /" + "x".repeat(20_000) + " HTTP/1.1\r\n"), 414, "PG_ERR_URL_TOO_LONG"],
    ["a request line cut before its end", parserError("HPE_HEADER_OVERFLOW", "GET /" + "x".repeat(20_000)), 414, "PG_ERR_URL_TOO_LONG"],
    ["an overflow in a later packet (no request line in it)", parserError("HPE_HEADER_OVERFLOW", "y".repeat(20_000)), 431, "PG_ERR_HEADERS_TOO_LARGE"],
    ["regression: an unknown method in a well-formed request line answers 501", parserError("HPE_INVALID_METHOD", "FOO / HTTP/1.1\r\nHost: a\r\n\r\n"), 501, "PG_ERR_METHOD_NOT_IMPLEMENTED"],
    ["a line that is not HTTP at all", parserError("HPE_INVALID_METHOD", "THIS IS NOT HTTP\r\n\r\n"), 400, "PG_ERR_BAD_REQUEST"],
    ["Content-Length with Transfer-Encoding (smuggling)", parserError("HPE_INVALID_TRANSFER_ENCODING"), 400, "PG_ERR_BAD_REQUEST"],
    ["two different Content-Lengths", parserError("HPE_UNEXPECTED_CONTENT_LENGTH"), 400, "PG_ERR_BAD_REQUEST"],
    ["an unknown parser error", parserError("HPE_SOMETHING_NEW"), 400, "PG_ERR_BAD_REQUEST"],
  ])("%s -> %i", (_name, error, status, reason) => {
    const answer = parserErrorResponse(error, 8192);
    expect(answer && (answer.httpStatus ?? httpStatusFromCode(answer.code))).toBe(status);
    expect(answer?.reason).toBe(reason);
  });

  it.each(["ECONNRESET", "EPIPE"])("a connection failure (%s) has no answer", (code) => {
    expect(parserErrorResponse(parserError(code), 8192)).toBeUndefined();
  });
});

import { describe, expect, it } from "vitest";
import { checkRequest, type CheckedRequest } from "../../src/http/request-checks.js";

const http11 = (rawHeaders: string[], url = "/v1/users/u-1"): CheckedRequest => ({ url, httpVersionMajor: 1, httpVersionMinor: 1, rawHeaders });
const http10 = (rawHeaders: string[]): CheckedRequest => ({ url: "/", httpVersionMajor: 1, httpVersionMinor: 0, rawHeaders });
const http2 = (rawHeaders: string[]): CheckedRequest => ({ url: "/", httpVersionMajor: 2, httpVersionMinor: 0, rawHeaders });

describe("checkRequest", () => {
  it.each([
    ["an HTTP/1.1 request with one Host", http11(["Host", "api.example.com:8080"])],
    ["an empty Host (a target without authority)", http11(["Host", ""])],
    ["a bracketed IPv6 Host", http11(["Host", "[::1]:8080"])],
    ["HTTP/1.0 without a Host", http10([])],
    ["HTTP/2 with :authority only", http2([":authority", "api.example.com"])],
    ["HTTP/2 with a Host equal to :authority", http2([":authority", "api.example.com", "host", "api.example.com"])],
    ["a target of exactly the limit", http11(["Host", "a"], "/" + "x".repeat(99))],
  ])("accepts %s", (_name, request) => {
    expect(checkRequest(request, 100)).toBeUndefined();
  });

  it.each([
    ["regression: two Host headers are accepted (RFC 9112 §3.2)", http11(["Host", "a", "Host", "b"]), "the request has more than one Host header"],
    ["two Host headers in different casing", http11(["host", "a", "HOST", "a"]), "the request has more than one Host header"],
    ["an HTTP/1.1 request without a Host", http11([]), "an HTTP/1.1 request needs a Host header"],
    ["a Host with userinfo", http11(["Host", "user:pw@api.example.com"]), "the Host header must be host[:port]"],
    ["a Host with a path", http11(["Host", "api.example.com/evil"]), "the Host header must be host[:port]"],
    ["regression: an HTTP/2 :authority with userinfo is accepted", http2([":authority", "user@api.example.com"]), "the :authority pseudo-header must be host[:port], without userinfo"],
    ["regression: an HTTP/2 Host that differs from :authority is accepted", http2([":authority", "api.example.com", "host", "evil.example.com"]), "the Host header differs from :authority"],
  ])("refuses %s: 400", (_name, request, message) => {
    expect(checkRequest(request, 100)).toMatchObject({ httpStatus: 400, reason: "PG_ERR_BAD_HOST", message });
  });

  it("regression: an over-long URL answers 414 (RFC 9112 §3), not 400 or 431", () => {
    expect(checkRequest(http11(["Host", "a"], "/" + "x".repeat(100)), 100)).toMatchObject({ httpStatus: 414, reason: "PG_ERR_URL_TOO_LONG" });
  });
});

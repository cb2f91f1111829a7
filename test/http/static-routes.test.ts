import { describe, expect, it } from "vitest";
import { GatewayError } from "../../src/errors/gateway-error.js";
import type { GatewayResponse } from "../../src/gateway/request.js";
import { createStaticResponder } from "../../src/http/static-routes.js";

const route = { path: "/docs", body: Buffer.from("<!doctype html>"), headers: { "content-type": "text/html; charset=utf-8" } };

function ok(answer: GatewayResponse | GatewayError): GatewayResponse {
  if (answer instanceof GatewayError) throw answer;
  return answer;
}

describe("createStaticResponder", () => {
  const answer = createStaticResponder(route);
  const etag = ok(answer("GET", undefined)).headers.etag;

  it("answers GET and HEAD with the body, its headers, an entity tag and no-cache", () => {
    for (const method of ["GET", "HEAD"]) {
      const response = ok(answer(method, undefined));
      expect(response.status).toBe(200);
      expect(response.body).toBe(route.body);
      expect(response.headers).toMatchObject({ "content-type": "text/html; charset=utf-8", "cache-control": "no-cache", "x-content-type-options": "nosniff" });
    }
    expect(etag).toMatch(/^"[\w-]{27}"$/);
  });

  it("a different body has a different tag", () => {
    const other = ok(createStaticResponder({ ...route, body: Buffer.from("<!doctype html>!") })("GET", undefined));
    expect(other.headers.etag).not.toBe(etag);
  });

  it.each([[etag], [`W/${etag}`], [`"other", ${etag}`], ["*"]])("answers 304 without a body to If-None-Match: %s", (header) => {
    const response = ok(answer("GET", header));
    expect(response.status).toBe(304);
    expect(response.body).toBe("");
    expect(response.headers).toEqual({ "content-type": "text/html; charset=utf-8", "cache-control": "no-cache", etag });
  });

  it("answers 200 to an If-None-Match naming other tags", () => {
    expect(ok(answer("GET", '"other"')).status).toBe(200);
  });

  it("refuses other methods with 405, Allow: GET, HEAD and PG_ERR_METHOD_NOT_ALLOWED", () => {
    const refused = answer("POST", undefined);
    expect(refused).toBeInstanceOf(GatewayError);
    expect(refused).toMatchObject({ reason: "PG_ERR_METHOD_NOT_ALLOWED", httpStatus: 405, headers: { allow: "GET, HEAD" } });
  });
});

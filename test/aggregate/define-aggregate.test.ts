import { describe, expect, expectTypeOf, it } from "vitest";
import { UserServiceService, type User } from "../../generated/demo/v1/user.js";
import { defineAggregate, isTypedAggregate, type AggregateContext } from "../../src/aggregate/typed/define-aggregate.js";

describe("defineAggregate", () => {
  it("is recognised by shape (a module may import another copy of protogate/runtime)", () => {
    const defined = defineAggregate(async () => ({}));
    expect(isTypedAggregate(defined)).toBe(true);
    expect(isTypedAggregate({ ...defined })).toBe(true);
    expect(isTypedAggregate({ kind: "protogate.aggregate", version: 2, handler: () => undefined })).toBe(false);
    expect(isTypedAggregate(async () => ({}))).toBe(false);
    expect(isTypedAggregate(null)).toBe(false);
  });

  it("ctx.call infers the request and response types from the method reference (checked by tsc)", () => {
    // Only the types are exercised: tsc --noEmit fails the build when an expectation or a @ts-expect-error does not hold.
    const body = async (ctx: AggregateContext) => {
      const user = await ctx.call(UserServiceService.getUser, { userId: "u-1" });
      expectTypeOf(user).toEqualTypeOf<User>();
      const maybe = await ctx.call(UserServiceService.getUser, { userId: "u-1" }, { onError: "partial", key: "user" });
      expectTypeOf(maybe).toEqualTypeOf<User | undefined>();
      const fallback = await ctx.call(UserServiceService.getUser, {}, { onError: { default: { displayName: "?" } } });
      expectTypeOf(fallback).toEqualTypeOf<User>();
      // @ts-expect-error: GetUserRequest has no field "id"
      await ctx.call(UserServiceService.getUser, { id: "u-1" });
      // @ts-expect-error: userId is a string
      await ctx.call(UserServiceService.getUser, { userId: 1 });
      // @ts-expect-error: a partial call needs the key its error goes under
      await ctx.call(UserServiceService.getUser, {}, { onError: "partial" });
      // @ts-expect-error: a default is a (partial) User
      await ctx.call(UserServiceService.getUser, {}, { onError: { default: { nope: 1 } } });
      return {};
    };
    expect(typeof defineAggregate(body).handler).toBe("function");
  });
});

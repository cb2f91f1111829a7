import { status } from "@grpc/grpc-js";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Role, type BatchGetUsersResponse, type ListUsersRequest, type ListUsersResponse, type User } from "../../generated/demo/v1/user.js";
import { FIXED_NOW, fail, ok, startDemoHarness, violatedFields, violationsOf, type DemoHarness } from "./support/demo-harness.js";

let demo: DemoHarness;
beforeEach(async () => {
  demo = await startDemoHarness();
});
afterEach(async () => {
  await demo.close();
});

function newUser(overrides: Partial<User> = {}): User {
  return {
    userId: "",
    displayName: "Barbara Liskov",
    email: "barbara@clu.example",
    role: Role.ROLE_UNSPECIFIED,
    createTime: undefined,
    labels: new Map(),
    tags: [],
    balanceCents: "0",
    profile: undefined,
    nickname: undefined,
    region: "",
    ...overrides,
  };
}

function listRequest(overrides: Partial<ListUsersRequest> = {}): ListUsersRequest {
  return { pageSize: 0, pageToken: "", role: Role.ROLE_UNSPECIFIED, tags: [], createdAfter: undefined, ...overrides };
}

const getUser = (userId: string) => ok<User>((md, cb) => demo.users.getUser({ userId }, md, cb));
const listUsers = (request: ListUsersRequest) => ok<ListUsersResponse>((md, cb) => demo.users.listUsers(request, md, cb));
const ids = (users: User[]) => users.map((user) => user.userId);

describe("GetUser", () => {
  it("returns a seeded user with every field type intact", async () => {
    const user = await getUser("u-1");
    expect(user).toMatchObject({ userId: "u-1", displayName: "Ada Lovelace", role: Role.ROLE_ADMIN, balanceCents: "12500", nickname: "Enchantress of Numbers" });
    expect(user.labels).toEqual(new Map([["team", "engines"], ["tier", "gold"]]));
    expect(user.profile).toEqual({ city: "London", languages: ["en", "fr"], newsletter: true });
    expect(user.createTime).toEqual({ seconds: String(Date.parse("2026-01-05T09:30:00Z") / 1000), nanos: 0 });
    expect((await getUser("u-4")).balanceCents).toBe("9007199254740993");
  });

  it.each([
    { userId: "", code: status.INVALID_ARGUMENT, text: "user_id" },
    { userId: "u-99", code: status.NOT_FOUND, text: '"u-99"' },
  ])("answers $code for user id '$userId'", async ({ userId, code, text }) => {
    const error = await fail((md, cb) => demo.users.getUser({ userId }, md, cb));
    expect(error.code).toBe(code);
    expect(error.details).toContain(text);
  });

  it("names the empty field in a BadRequest detail", async () => {
    const error = await fail((md, cb) => demo.users.getUser({ userId: "" }, md, cb));
    expect(violationsOf(error)).toEqual([{ field: "user_id", description: "must not be empty" }]);
  });
});

describe("BatchGetUsers (AIP-231)", () => {
  const batchGet = (userIds: string[]) => ok<BatchGetUsersResponse>((md, cb) => demo.users.batchGetUsers({ userIds }, md, cb));

  it.each([
    { name: "in the order asked", userIds: ["u-2", "u-1", "u-3"] },
    { name: "an id asked twice, twice", userIds: ["u-1", "u-1"] },
    { name: "none for no ids", userIds: [] },
  ])("answers the users $name, each as GetUser answers it", async ({ userIds }) => {
    const { users } = await batchGet(userIds);
    expect(ids(users)).toEqual(userIds);
    for (const user of users) expect(user).toEqual(await getUser(user.userId));
  });

  it.each([
    { userIds: ["u-1", ""], field: "user_ids[1]", description: "must not be empty" },
    { userIds: Array.from({ length: 1001 }, () => "u-1"), field: "user_ids", description: "must hold at most 1000 ids (got 1001)" },
  ])("refuses the whole batch with a BadRequest on $field", async ({ userIds, field, description }) => {
    const error = await fail((md, cb) => demo.users.batchGetUsers({ userIds }, md, cb));
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(violationsOf(error)).toEqual([{ field, description }]);
  });

  it("all or nothing: an unknown id among known ones is NOT_FOUND for the whole batch, naming it", async () => {
    const error = await fail((md, cb) => demo.users.batchGetUsers({ userIds: ["u-1", "u-99"] }, md, cb));
    expect(error.code).toBe(status.NOT_FOUND);
    expect(error.details).toContain('"u-99"');
  });
});

describe("ListUsers", () => {
  it("pages through every user exactly once", async () => {
    const seen: string[] = [];
    let pageToken = "";
    for (let page = 0; page < 10; page++) {
      const response = await listUsers(listRequest({ pageSize: 3, pageToken }));
      expect(response.users.length).toBeLessThanOrEqual(3);
      seen.push(...ids(response.users));
      pageToken = response.nextPageToken;
      if (pageToken === "") break;
    }
    expect(seen).toEqual(["u-1", "u-2", "u-3", "u-4"]);
  });

  it("returns the same users page by page as in one page, for any page size and filter", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.constantFrom(Role.ROLE_UNSPECIFIED, Role.ROLE_MEMBER, Role.ROLE_ADMIN),
        fc.subarray(["math", "navy", "crypto"], { maxLength: 1 }),
        async (pageSize, role, tags) => {
          const all = ids((await listUsers(listRequest({ pageSize: 100, role, tags }))).users);
          const paged: string[] = [];
          let pageToken = "";
          for (let page = 0; page <= all.length; page++) {
            const response = await listUsers(listRequest({ pageSize, pageToken, role, tags }));
            expect(response.users.length).toBeLessThanOrEqual(pageSize);
            paged.push(...ids(response.users));
            pageToken = response.nextPageToken;
            if (pageToken === "") break;
          }
          expect(pageToken).toBe("");
          expect(paged).toEqual(all);
        },
      ),
      { numRuns: 25 },
    );
  });

  it.each([
    { name: "role", request: listRequest({ role: Role.ROLE_MEMBER }), expected: ["u-2", "u-3", "u-4"] },
    { name: "one tag", request: listRequest({ tags: ["math"] }), expected: ["u-1", "u-3", "u-4"] },
    { name: "all tags must match", request: listRequest({ tags: ["math", "orbits"] }), expected: ["u-4"] },
    { name: "role and tag", request: listRequest({ role: Role.ROLE_ADMIN, tags: ["math"] }), expected: ["u-1"] },
    { name: "created after", request: listRequest({ createdAfter: { seconds: String(Date.parse("2026-03-01T00:00:00Z") / 1000), nanos: 0 } }), expected: ["u-3", "u-4"] },
    { name: "page size", request: listRequest({ pageSize: 2, role: Role.ROLE_MEMBER }), expected: ["u-2", "u-3"] },
  ])("filters by $name", async ({ request, expected }) => {
    expect(ids((await listUsers(request)).users)).toEqual(expected);
  });

  it("keeps the filter across pages", async () => {
    const first = await listUsers(listRequest({ pageSize: 2, role: Role.ROLE_MEMBER }));
    expect(first.nextPageToken).not.toBe("");
    const second = await listUsers(listRequest({ pageSize: 2, role: Role.ROLE_MEMBER, pageToken: first.nextPageToken }));
    expect(ids(second.users)).toEqual(["u-4"]);
    expect(second.nextPageToken).toBe("");
  });

  it.each([
    { name: "negative page size", request: listRequest({ pageSize: -1 }), field: "page_size" },
    { name: "forged page token", request: listRequest({ pageToken: "bm90LWEtdG9rZW4" }), field: "page_token" },
    { name: "unknown role", request: listRequest({ role: 7 as Role }), field: "role" },
  ])("rejects a $name", async ({ request, field }) => {
    const error = await fail((md, cb) => demo.users.listUsers(request, md, cb));
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(violatedFields(error)).toEqual([field]);
  });
});

describe("CreateUser", () => {
  it("assigns an id, the create time and the default role", async () => {
    const created = await ok<User>((md, cb) => demo.users.createUser({ user: newUser({ userId: "ignored", tags: ["vlsi"] }) }, md, cb));
    expect(created).toMatchObject({ userId: "u-5", displayName: "Barbara Liskov", role: Role.ROLE_MEMBER, tags: ["vlsi"] });
    expect(created.createTime).toEqual({ seconds: String(Math.floor(FIXED_NOW.getTime() / 1000)), nanos: 890_000_000 });
    expect(await getUser("u-5")).toEqual(created);
  });

  it.each([
    { name: "without a user", user: undefined, fields: ["user"] },
    { name: "without an email", user: newUser({ email: "" }), fields: ["user.email"] },
    { name: "with a malformed email", user: newUser({ email: "barbara at clu" }), fields: ["user.email"] },
    { name: "with a blank name and no email", user: newUser({ displayName: "  ", email: "" }), fields: ["user.display_name", "user.email"] },
    { name: "with an unknown role", user: newUser({ role: 9 as Role }), fields: ["user.role"] },
  ])("rejects a request $name with a BadRequest detail", async ({ user, fields }) => {
    const error = await fail((md, cb) => demo.users.createUser({ user }, md, cb));
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(violatedFields(error)).toEqual(fields);
  });

  it("answers ALREADY_EXISTS for an email in use, ignoring case", async () => {
    const error = await fail((md, cb) => demo.users.createUser({ user: newUser({ email: "ADA@analytical.example" }) }, md, cb));
    expect(error.code).toBe(status.ALREADY_EXISTS);
    expect(error.details).toContain("u-1");
  });
});

describe("UpdateUser", () => {
  const update = (user: User, updateMask: string[] | undefined) => ok<User>((md, cb) => demo.users.updateUser({ user, updateMask }, md, cb));

  it("changes only the fields in the mask", async () => {
    const updated = await update(newUser({ userId: "u-2", displayName: "Rear Admiral Hopper", email: "other@x.example" }), ["display_name"]);
    expect(updated).toMatchObject({ displayName: "Rear Admiral Hopper", email: "grace@cobol.example", nickname: "Amazing Grace" });
    expect((await getUser("u-2")).displayName).toBe("Rear Admiral Hopper");
  });

  it("clears a field that is in the mask but unset in the user", async () => {
    const updated = await update(newUser({ userId: "u-2" }), ["nickname", "tags"]);
    expect(updated.nickname).toBeUndefined();
    expect(updated.tags).toEqual([]);
    expect(updated.displayName).toBe("Grace Hopper");
  });

  it("updates the fields the user sets when there is no mask", async () => {
    const updated = await update(newUser({ userId: "u-3", displayName: "", email: "", balanceCents: "-1", labels: new Map([["k", "v"]]) }), undefined);
    expect(updated).toMatchObject({ displayName: "Alan Turing", email: "alan@bletchley.example", balanceCents: "-1" });
    expect(updated.labels).toEqual(new Map([["k", "v"]]));
  });

  it("replaces every mutable field for '*'", async () => {
    const updated = await update(newUser({ userId: "u-1" }), ["*"]);
    expect(updated).toMatchObject({ userId: "u-1", displayName: "Barbara Liskov", email: "barbara@clu.example", tags: [], profile: undefined });
    expect(updated.createTime).toEqual((await getUser("u-1")).createTime);
  });

  it.each([
    { name: "an output-only path", mask: ["create_time"], text: "output only" },
    { name: "an unknown path", mask: ["shoe_size"], text: "unknown field" },
    { name: "a JSON name instead of a proto name", mask: ["displayName"], text: "unknown field" },
  ])("rejects $name in the mask", async ({ mask, text }) => {
    const error = await fail((md, cb) => demo.users.updateUser({ user: newUser({ userId: "u-1" }), updateMask: mask }, md, cb));
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(violationsOf(error)).toEqual([{ field: "update_mask", description: expect.stringContaining(text) }]);
  });

  it.each([
    { name: "no user id", user: newUser(), mask: ["email"], code: status.INVALID_ARGUMENT },
    { name: "an unknown user", user: newUser({ userId: "u-77" }), mask: ["email"], code: status.NOT_FOUND },
    { name: "an invalid email", user: newUser({ userId: "u-2", email: "nope" }), mask: ["email"], code: status.INVALID_ARGUMENT },
    { name: "another user's email", user: newUser({ userId: "u-2", email: "alan@bletchley.example" }), mask: ["email"], code: status.ALREADY_EXISTS },
  ])("answers $code for $name", async ({ user, mask, code }) => {
    const error = await fail((md, cb) => demo.users.updateUser({ user, updateMask: mask }, md, cb));
    expect(error.code).toBe(code);
  });

  it("lets a user keep their own email", async () => {
    const updated = await update(newUser({ userId: "u-2", email: "Grace@cobol.example" }), ["email"]);
    expect(updated.email).toBe("Grace@cobol.example");
  });
});

describe("DeleteUser", () => {
  it("deletes the user and their orders", async () => {
    expect(await ok((md, cb) => demo.users.deleteUser({ userId: "u-1" }, md, cb))).toEqual({});
    expect((await fail((md, cb) => demo.users.getUser({ userId: "u-1" }, md, cb))).code).toBe(status.NOT_FOUND);
    expect((await fail((md, cb) => demo.orders.getOrder({ name: "users/u-1/orders/o-1" }, md, cb))).code).toBe(status.NOT_FOUND);
  });

  it("answers NOT_FOUND for an unknown user", async () => {
    expect((await fail((md, cb) => demo.users.deleteUser({ userId: "u-9" }, md, cb))).code).toBe(status.NOT_FOUND);
  });
});

describe("SearchUsers", () => {
  it.each([
    { query: "grace", expected: ["u-2"] },
    { query: "MATH", expected: ["u-1", "u-3", "u-4"] },
    { query: "math  orbits", expected: ["u-4"] },
    { query: "example", expected: ["u-1", "u-2", "u-3", "u-4"] },
    { query: "enchantress", expected: ["u-1"] },
    { query: "nobody-matches-this", expected: [] },
    { query: "lovelace ".repeat(110), expected: ["u-1"] },
  ])("finds $expected for '$query'", async ({ query, expected }) => {
    const response = await ok<ListUsersResponse>((md, cb) => demo.users.searchUsers({ query, pageSize: 0 }, md, cb));
    expect(ids(response.users)).toEqual(expected);
  });

  it("honours the page size", async () => {
    const response = await ok<ListUsersResponse>((md, cb) => demo.users.searchUsers({ query: "math", pageSize: 2 }, md, cb));
    expect(ids(response.users)).toEqual(["u-1", "u-3"]);
  });

  it.each([
    { name: "an empty query", query: "", pageSize: 0, field: "query" },
    { name: "a blank query", query: " \t ", pageSize: 0, field: "query" },
    { name: "an over-long query", query: "a".repeat(4097), pageSize: 0, field: "query" },
    { name: "a negative page size", query: "ada", pageSize: -5, field: "page_size" },
  ])("rejects $name", async ({ query, pageSize, field }) => {
    const error = await fail((md, cb) => demo.users.searchUsers({ query, pageSize }, md, cb));
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(violatedFields(error)).toEqual([field]);
  });
});

import type { Empty } from "../../generated/google/protobuf/empty.js";
import {
  Role,
  type BatchGetUsersRequest,
  type BatchGetUsersResponse,
  type CreateUserRequest,
  type ListUsersRequest,
  type ListUsersResponse,
  type SearchUsersRequest,
  type UpdateUserRequest,
  type User,
  type UserServiceServer,
} from "../../generated/demo/v1/user.js";
import { idSequence, type DemoStore } from "./demo-store.js";
import { alreadyExists, assertNoViolations, invalidArgument, notFound, type FieldViolation } from "./rpc-error.js";
import { compareTimestamps, toTimestamp } from "./timestamps.js";
import { unaryHandler } from "./unary-handler.js";
import { effectivePageSize, enumValueNames, isEmail, isKnownEnumValue, requireMessage } from "./validation.js";

const MAX_DISPLAY_NAME = 100;
const MAX_QUERY = 4096;
/** AIP-231 leaves the bound to the API; the demo's is generous but finite. */
const MAX_BATCH_IDS = 1000;

/** Fields UpdateUser may change, by proto name (as they appear in `update_mask`). */
const MUTABLE_FIELDS = ["display_name", "email", "role", "labels", "tags", "balance_cents", "profile", "nickname"] as const;
type MutableField = (typeof MUTABLE_FIELDS)[number];
const OUTPUT_ONLY_FIELDS = ["user_id", "create_time"];

/** demo.v1.UserService over a demo store. */
export function createUserService(store: DemoStore): UserServiceServer {
  return {
    getUser: unaryHandler((request) => requireUser(store, request.userId, "user_id")),
    batchGetUsers: unaryHandler((request) => batchGetUsers(store, request)),
    listUsers: unaryHandler((request) => listUsers(store, request)),
    createUser: unaryHandler((request) => createUser(store, request)),
    updateUser: unaryHandler((request) => updateUser(store, request)),
    deleteUser: unaryHandler((request): Empty => {
      const user = requireUser(store, request.userId, "user_id");
      store.users.delete(user.userId);
      for (const name of [...store.orders.keys()]) if (name.startsWith(`users/${user.userId}/`)) store.orders.delete(name);
      return {};
    }),
    searchUsers: unaryHandler((request) => searchUsers(store, request)),
  };
}

function requireUser(store: DemoStore, userId: string, field: string): User {
  if (userId === "") throw invalidArgument([{ field, description: "must not be empty" }]);
  const user = store.users.get(userId);
  if (!user) throw notFound(`user "${userId}" not found (existing ids look like "u-1"; ListUsers lists them)`);
  return user;
}

/** AIP-231: all or nothing, the users in the order of the ids asked for. */
function batchGetUsers(store: DemoStore, request: BatchGetUsersRequest): BatchGetUsersResponse {
  if (request.userIds.length > MAX_BATCH_IDS) {
    throw invalidArgument([{ field: "user_ids", description: `must hold at most ${MAX_BATCH_IDS} ids (got ${request.userIds.length})` }]);
  }
  return { users: request.userIds.map((userId, index) => requireUser(store, userId, `user_ids[${index}]`)) };
}

function listUsers(store: DemoStore, request: ListUsersRequest): ListUsersResponse {
  const violations: FieldViolation[] = [];
  const pageSize = effectivePageSize(request.pageSize, "page_size", violations);
  const after = request.pageToken === "" ? 0 : decodePageToken(request.pageToken);
  if (after === undefined) violations.push({ field: "page_token", description: "is not a token returned by a previous ListUsers call" });
  if (request.role !== Role.ROLE_UNSPECIFIED && !isKnownEnumValue(Role, request.role)) {
    violations.push({ field: "role", description: `unknown role ${request.role}; expected one of ${enumValueNames(Role)}` });
  }
  assertNoViolations(violations);

  const matches = [...store.users.values()].filter(
    (user) =>
      (idSequence(user.userId) ?? 0) > (after ?? 0) &&
      (request.role === Role.ROLE_UNSPECIFIED || user.role === request.role) &&
      request.tags.every((tag) => user.tags.includes(tag)) &&
      (request.createdAfter === undefined || (user.createTime !== undefined && compareTimestamps(user.createTime, request.createdAfter) > 0)),
  );
  const users = matches.slice(0, pageSize);
  const last = users[users.length - 1];
  const nextPageToken = matches.length > pageSize && last ? encodePageToken(idSequence(last.userId) ?? 0) : "";
  return { users, nextPageToken };
}

function encodePageToken(afterSequence: number): string {
  return Buffer.from(`after:${afterSequence}`).toString("base64url");
}

function decodePageToken(token: string): number | undefined {
  const match = /^after:(\d{1,9})$/.exec(Buffer.from(token, "base64url").toString("utf8"));
  return match ? Number(match[1]) : undefined;
}

function createUser(store: DemoStore, request: CreateUserRequest): User {
  const user = requireMessage(request.user, "user");
  assertNoViolations(validateUserFields(user, ["display_name", "email", "role"]));
  assertEmailFree(store, user.email, undefined);
  const created: User = {
    ...user,
    userId: store.nextId("u"),
    role: user.role === Role.ROLE_UNSPECIFIED ? Role.ROLE_MEMBER : user.role,
    createTime: toTimestamp(store.now()),
  };
  store.users.set(created.userId, created);
  return created;
}

function updateUser(store: DemoStore, request: UpdateUserRequest): User {
  const patch = requireMessage(request.user, "user");
  const existing = requireUser(store, patch.userId, "user.user_id");
  const paths = maskPaths(request.updateMask, patch);
  const updated: User = { ...existing };
  for (const path of paths) copyField(patch, updated, path);
  assertNoViolations(validateUserFields(updated, paths));
  if (paths.includes("email")) assertEmailFree(store, updated.email, existing.userId);
  store.users.set(updated.userId, updated);
  return updated;
}

/**
 * The fields an update touches: the mask's paths, all mutable fields for "*", or (AIP-134) the
 * fields the patch sets when there is no mask.
 */
function maskPaths(mask: string[] | undefined, patch: User): MutableField[] {
  if (mask === undefined || mask.length === 0) return MUTABLE_FIELDS.filter((field) => isSet(patch, field));
  if (mask.length === 1 && mask[0] === "*") return [...MUTABLE_FIELDS];
  const violations: FieldViolation[] = [];
  for (const path of mask) {
    if (OUTPUT_ONLY_FIELDS.includes(path)) violations.push({ field: "update_mask", description: `"${path}" is output only and cannot be updated` });
    else if (!(MUTABLE_FIELDS as readonly string[]).includes(path)) {
      violations.push({ field: "update_mask", description: `unknown field "${path}"; updatable fields are ${MUTABLE_FIELDS.join(", ")} (or "*")` });
    }
  }
  assertNoViolations(violations);
  return [...new Set(mask)] as MutableField[];
}

function isSet(user: User, field: MutableField): boolean {
  switch (field) {
    case "display_name":
      return user.displayName !== "";
    case "email":
      return user.email !== "";
    case "role":
      return user.role !== Role.ROLE_UNSPECIFIED;
    case "labels":
      return user.labels.size > 0;
    case "tags":
      return user.tags.length > 0;
    case "balance_cents":
      return user.balanceCents !== "0";
    case "profile":
      return user.profile !== undefined;
    case "nickname":
      return user.nickname !== undefined;
  }
}

function copyField(from: User, to: User, field: MutableField): void {
  switch (field) {
    case "display_name":
      to.displayName = from.displayName;
      break;
    case "email":
      to.email = from.email;
      break;
    case "role":
      to.role = from.role;
      break;
    case "labels":
      to.labels = from.labels;
      break;
    case "tags":
      to.tags = from.tags;
      break;
    case "balance_cents":
      to.balanceCents = from.balanceCents;
      break;
    case "profile":
      to.profile = from.profile;
      break;
    case "nickname":
      to.nickname = from.nickname;
      break;
  }
}

function validateUserFields(user: User, fields: readonly string[]): FieldViolation[] {
  const violations: FieldViolation[] = [];
  if (fields.includes("display_name")) {
    if (user.displayName.trim() === "") violations.push({ field: "user.display_name", description: "must not be empty" });
    else if (user.displayName.length > MAX_DISPLAY_NAME) violations.push({ field: "user.display_name", description: `must be at most ${MAX_DISPLAY_NAME} characters` });
  }
  if (fields.includes("email")) {
    if (user.email === "") violations.push({ field: "user.email", description: "must not be empty" });
    else if (!isEmail(user.email)) violations.push({ field: "user.email", description: "is not an email address" });
  }
  if (fields.includes("role") && user.role !== Role.ROLE_UNSPECIFIED && !isKnownEnumValue(Role, user.role)) {
    violations.push({ field: "user.role", description: `unknown role ${user.role}; expected one of ${enumValueNames(Role)}` });
  }
  return violations;
}

function assertEmailFree(store: DemoStore, email: string, exceptUserId: string | undefined): void {
  const wanted = email.toLowerCase();
  for (const user of store.users.values()) {
    if (user.userId !== exceptUserId && user.email.toLowerCase() === wanted) {
      throw alreadyExists(`a user with email "${email}" already exists (${user.userId})`);
    }
  }
}

/** Users whose name, email, nickname, id or tags contain every whitespace-separated term. */
function searchUsers(store: DemoStore, request: SearchUsersRequest): ListUsersResponse {
  const violations: FieldViolation[] = [];
  const pageSize = effectivePageSize(request.pageSize, "page_size", violations);
  if (request.query.trim() === "") violations.push({ field: "query", description: "must not be empty" });
  else if (request.query.length > MAX_QUERY) violations.push({ field: "query", description: `must be at most ${MAX_QUERY} characters (got ${request.query.length})` });
  assertNoViolations(violations);

  const terms = [...new Set(request.query.toLowerCase().split(/\s+/).filter((term) => term !== ""))];
  const users: User[] = [];
  for (const user of store.users.values()) {
    const text = [user.userId, user.displayName, user.email, user.nickname ?? "", ...user.tags].join("\n").toLowerCase();
    if (terms.every((term) => text.includes(term))) users.push(user);
    if (users.length === pageSize) break;
  }
  return { users, nextPageToken: "" };
}

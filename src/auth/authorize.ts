import { methodSelector } from "../config/selector.js";
import type { AuthRuleData } from "../binding.js";
import { permissionDenied, unauthenticated } from "./auth-errors.js";
import type { Caller } from "./caller.js";

/** An access rule as the proto option or a config override states it; unset fields inherit. */
export interface AuthRule {
  /** No authentication needed (and no scopes checked). */
  readonly public?: boolean;
  /** Scopes the caller must all hold. */
  readonly scopes?: readonly string[];
  /** Pass the client's raw `Authorization` header on to the upstream. */
  readonly forwardAuthorization?: boolean;
}

/** The rule codegen carries from `option (protogate.v1.rule)`; null when the method has none. */
export type ProtoAuthRule = AuthRuleData | null;

/** A `gateway.yaml` override: `pkg.Svc.Method`, `pkg.Svc.*` or `*`. */
export interface AuthRuleOverride extends AuthRule {
  readonly selector: string;
}

/** The rule one route runs with, resolved once at start. */
export interface EffectiveRule {
  readonly public: boolean;
  /** Sorted, without duplicates; empty when `public`. */
  readonly scopes: readonly string[];
  readonly forwardAuthorization: boolean;
  /** Where it came from, for logs: `default`, `proto`, or `config <selector>` (over the proto rule if any). */
  readonly origin: string;
}

/** Resolves and enforces per-method rules. */
export interface Authorizer {
  /**
   * The rule of `service`/`method`: the proto rule (or the default: authenticated caller, no
   * scopes) with the fields of the most specific override replacing the ones it sets. An
   * override with non-empty `scopes` and no `public` also sets `public: false`.
   */
  effectiveRule(service: string, method: string, protoRule: ProtoAuthRule): EffectiveRule;
  /**
   * Throws a 401 (no caller on a non-public method) or a 403 naming the missing scopes;
   * returns normally when the call may proceed.
   */
  authorize(rule: EffectiveRule, caller: Caller | undefined): void;
}

/**
 * Builds the authorizer from the `auth.rules` overrides. Deny by default: without a rule a
 * method needs an authenticated caller. Only the most specific override applies
 * (`pkg.Svc.Method` > `pkg.Svc.*` > `*`); overrides do not stack. Throws on a duplicate selector.
 */
export function createAuthorizer(overrides: readonly AuthRuleOverride[]): Authorizer {
  const bySelector = new Map<string, AuthRuleOverride>();
  for (const override of overrides) {
    if (bySelector.has(override.selector)) throw new Error(`auth.rules: selector "${override.selector}" appears twice`);
    bySelector.set(override.selector, override);
  }

  return {
    effectiveRule(service, method, protoRule) {
      const selector = [methodSelector(service, method), `${service}.*`, "*"].find((candidate) => bySelector.has(candidate));
      const override = selector === undefined ? undefined : bySelector.get(selector);
      // An override that demands scopes makes the method non-public even if the proto said public.
      const overridePublic = override?.public ?? (override?.scopes !== undefined && override.scopes.length > 0 ? false : undefined);
      const isPublic = overridePublic ?? protoRule?.public ?? false;
      const scopes = isPublic ? [] : [...new Set(override?.scopes ?? protoRule?.scopes ?? [])].sort();
      const origin = override !== undefined ? `config ${override.selector}${protoRule ? " over proto" : ""}` : protoRule ? "proto" : "default";
      return Object.freeze({
        public: isPublic,
        scopes: Object.freeze(scopes),
        forwardAuthorization: override?.forwardAuthorization ?? protoRule?.forwardAuthorization ?? false,
        origin,
      });
    },

    authorize(rule, caller) {
      if (rule.public) return;
      if (caller === undefined) throw unauthenticated("none", "authentication required");
      let missing: string[] | undefined;
      for (const scope of rule.scopes) {
        if (!caller.scopes.has(scope)) (missing ??= []).push(scope);
      }
      if (missing !== undefined) throw permissionDenied(missing, rule.scopes);
    },
  };
}

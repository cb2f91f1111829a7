import type { AuthRuleData } from "../../src/binding.js";

/** An OAuth 2.0 scope token (RFC 6749 section 3.3): printable ASCII without space, `"` or `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** One invalid part of a rule: which scope (by index), if the problem is about one. */
export interface AuthRuleProblem {
  readonly scopeIndex?: number;
  readonly message: string;
}

/**
 * Why an AuthRule cannot be served: `public` together with scopes (contradictory: public means no
 * caller to hold them), or a scope that is empty or not a single token. Empty when valid.
 */
export function checkAuthRule(rule: AuthRuleData): AuthRuleProblem[] {
  const problems: AuthRuleProblem[] = [];
  if (rule.public && rule.scopes.length > 0) {
    problems.push({ message: `public: true cannot be combined with scopes (${rule.scopes.map((s) => JSON.stringify(s)).join(", ")}): a public method has no caller to hold them` });
  }
  rule.scopes.forEach((scope, scopeIndex) => {
    if (scope === "") problems.push({ scopeIndex, message: `scopes[${scopeIndex}] is empty` });
    else if (!SCOPE_TOKEN.test(scope)) {
      problems.push({ scopeIndex, message: `scopes[${scopeIndex}] ${JSON.stringify(scope)} is not a scope token (printable ASCII without spaces, quotes or backslashes)` });
    }
  });
  return problems;
}

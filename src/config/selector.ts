import { z } from "zod";

/** A method selector in gateway.yaml: `pkg.Service.Method`, `pkg.Service.*` or `*`. */
export const selectorSchema = z.string().regex(/^(\*|[A-Za-z_][A-Za-z0-9_.]*(\.\*)?)$/, "expected pkg.Service.Method, pkg.Service.* or *");

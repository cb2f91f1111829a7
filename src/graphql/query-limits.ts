import {
  GraphQLError,
  Kind,
  getNamedType,
  getNullableType,
  isCompositeType,
  isListType,
  isObjectType,
  isInterfaceType,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from "graphql";

/** How deep and how costly an operation is (limits of `graphql:` in gateway.yaml). */
export interface OperationCost {
  /** The deepest field: a root field is depth 1. */
  readonly depth: number;
  /**
   * Each field costs 1; a field returning a list multiplies the cost of what is selected under it
   * by its `first` or `pageSize` argument when given (literal or variable); else by that of the
   * field it is part of (the list in a paginated RPC's reply: `listUsers(pageSize: 50) { users
   * {...} }` counts 50 users); else by the default list size. Introspection fields (`__schema`, `__type`, `__typename`) cost nothing and add no
   * depth: introspection has its own switch.
   */
  readonly complexity: number;
}

/** The arguments that bound a list's length, in the order they are looked for. */
const SIZE_ARGUMENTS = ["first", "pageSize"];

/** Measures an operation of a valid document (validation has ruled out fragment cycles and unknown fields). */
export function measureOperation(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Readonly<Record<string, unknown>> | null | undefined, defaultListSize: number): OperationCost {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const root = operation.operation === "query" ? schema.getQueryType() : operation.operation === "mutation" ? schema.getMutationType() : schema.getSubscriptionType();
  if (root === null || root === undefined) return { depth: 0, complexity: 0 };

  const measure = (selections: SelectionSetNode, parent: GraphQLCompositeType, depth: number, pageSize: number | undefined): OperationCost => {
    let deepest = depth - 1;
    let complexity = 0;
    for (const selection of selections.selections) {
      let inner: OperationCost;
      if (selection.kind === Kind.FIELD) {
        if (selection.name.value.startsWith("__")) continue;
        inner = measureField(selection, parent, depth, pageSize);
      } else {
        const fragment = selection.kind === Kind.INLINE_FRAGMENT ? selection : fragments.get(selection.name.value);
        if (fragment === undefined) continue;
        const condition = fragment.typeCondition === undefined ? parent : schema.getType(fragment.typeCondition.name.value);
        if (!isCompositeType(condition)) continue;
        inner = measure(fragment.selectionSet, condition, depth, pageSize);
      }
      deepest = Math.max(deepest, inner.depth);
      complexity += inner.complexity;
    }
    return { depth: deepest, complexity };
  };

  const measureField = (node: FieldNode, parent: GraphQLCompositeType, depth: number, inherited: number | undefined): OperationCost => {
    const field: GraphQLField<unknown, unknown> | undefined = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[node.name.value] : undefined;
    if (field === undefined || node.selectionSet === undefined) return { depth, complexity: 1 };
    const named = getNamedType(field.type);
    if (!isCompositeType(named)) return { depth, complexity: 1 };
    const own = sizeArgument(node, variables);
    const isList = isListType(getNullableType(field.type));
    // A list's size is used up by the list; an object field passes its own size (or none) on to the lists in it.
    const below = measure(node.selectionSet, named, depth + 1, isList ? undefined : own);
    const times = isList ? (own ?? inherited ?? defaultListSize) : 1;
    return { depth: Math.max(depth, below.depth), complexity: 1 + times * below.complexity };
  };

  return measure(operation.selectionSet, root, 1, undefined);
}

/** The field's `first` or `pageSize` argument, when given as a positive integer. */
function sizeArgument(node: FieldNode, variables: Readonly<Record<string, unknown>> | null | undefined): number | undefined {
  for (const name of SIZE_ARGUMENTS) {
    const argument = node.arguments?.find((a) => a.name.value === name);
    if (argument === undefined) continue;
    const size = intOf(argument.value, variables);
    // 0 or less: a paginated RPC's own default, unknown here; the default list size stands in.
    if (size !== undefined && size > 0) return size;
  }
  return undefined;
}

function intOf(value: ValueNode, variables: Readonly<Record<string, unknown>> | null | undefined): number | undefined {
  if (value.kind === Kind.INT) return Number(value.value);
  if (value.kind === Kind.VARIABLE) {
    const given = variables?.[value.name.value];
    return typeof given === "number" && Number.isInteger(given) ? given : undefined;
  }
  return undefined;
}

/** The configured limits an operation must stay within. */
export interface QueryLimits {
  readonly maxDepth: number;
  readonly maxComplexity: number;
}

/** The errors (with `extensions.code`) for an operation past its limits; empty when it is within them. */
export function limitErrors(cost: OperationCost, limits: QueryLimits): GraphQLError[] {
  const errors: GraphQLError[] = [];
  if (cost.depth > limits.maxDepth) {
    errors.push(new GraphQLError(`the query is ${cost.depth} fields deep; at most ${limits.maxDepth} are allowed (graphql.maxDepth)`, { extensions: { code: "DEPTH_LIMIT_EXCEEDED", depth: cost.depth, maxDepth: limits.maxDepth } }));
  }
  if (cost.complexity > limits.maxComplexity) {
    errors.push(
      new GraphQLError(`the query's complexity is ${cost.complexity}; at most ${limits.maxComplexity} is allowed (graphql.maxComplexity: 1 per field, a list multiplying what it selects by its first or pageSize argument, else by graphql.defaultListSize)`, {
        extensions: { code: "COMPLEXITY_LIMIT_EXCEEDED", complexity: cost.complexity, maxComplexity: limits.maxComplexity },
      }),
    );
  }
  return errors;
}

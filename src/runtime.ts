// The types that generated code imports (`import type`, so generated folders need no runtime
// import of protogate itself).
export type { AnyBinding, AuthRuleData, Binding, BodySelector, GeneratedRoute, LocationPart, MessageFns, MethodKind, SuccessData } from "./binding.js";
export type { PathTemplate, TemplateSegment, TemplateVariable } from "./routing/template.js";
export type { GraphqlJoin, GraphqlJoinBatch, GraphqlMap, GraphqlOneof, GraphqlOperation, GraphqlRoot, GraphqlType } from "./graphql/schema-map.js";
// Typed aggregates (gateway.yaml `aggregates: [{name, path, module}]`): a module default-exports defineAggregate(...).
export { defineAggregate } from "./aggregate/typed/define-aggregate.js";
export type { AggregateAnswer, AggregateContext, AggregateHandler, CallOptions, DefaultCallOptions, PartialCallOptions, TypedAggregate, UnaryMethod } from "./aggregate/typed/define-aggregate.js";

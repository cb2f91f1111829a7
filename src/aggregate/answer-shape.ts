import type { SelectionOutline } from "../transcode/field-selection.js";
import type { FieldPlan, MessagePlan } from "../transcode/json/plan-types.js";

/**
 * The shape of an aggregate's JSON answer, derived from its compiled calls (each call's selection
 * and renames over its response message), never from data: what `?fields=` paths are checked
 * against and what the OpenAPI response schema is built from.
 *
 * The answer is an object keyed by the visible calls' names; under each, the call's response (all
 * of it, or its selected fields under their output keys). Message fields can be walked into
 * (repeated ones element by element, maps of messages value by value); scalars and well-known
 * types (Timestamp, Struct, ...) end a path, as in field-selection.ts.
 */
export interface AnswerShape {
  /** The answer's keys (the visible calls), in declaration order. */
  readonly calls: readonly CallShape[];
}

export interface CallShape {
  /** The call's name: its key in the answer. */
  readonly key: string;
  /** The call's response message. */
  readonly response: MessagePlan;
  /** Its output's fields: all of the message's (no `select`), or the selected ones under their output keys. */
  readonly fields: readonly ShapeField[];
  /** Whether the whole response message is kept (no `select`): its schema is the message's own. */
  readonly whole: boolean;
}

/** One key of an object in the answer. */
export interface ShapeField {
  /** The key it is written under (a renamed field's new name). */
  readonly key: string;
  /** Another name a path may use for it: the field's proto name, when it is not renamed. */
  readonly alias: string | undefined;
  readonly field: FieldPlan;
  /** Whether all of the field is kept (not only some of its subfields). */
  readonly whole: boolean;
  /** The keys inside it (a message field's), or undefined when a path ends here. Built on use (messages may be recursive). */
  children(): readonly ShapeField[] | undefined;
}

/** What answerShape needs of a compiled call. */
export interface ShapedCall {
  readonly name: string;
  readonly hidden: boolean;
  readonly responsePlan: MessagePlan;
  readonly selection: { readonly outline: readonly SelectionOutline[] } | undefined;
}

export function answerShape(calls: readonly ShapedCall[]): AnswerShape {
  return {
    calls: calls
      .filter((call) => !call.hidden)
      .map((call) => ({
        key: call.name,
        response: call.responsePlan,
        whole: call.selection === undefined,
        fields: call.selection === undefined ? messageFields(call.responsePlan) : outlineFields(call.selection.outline),
      })),
  };
}

/** The message a field's values are, when paths may go into it. */
export function walkableMessage(field: FieldPlan): MessagePlan | undefined {
  const next = field.element.message;
  return next === undefined || next.wellKnown || !next.jsonIsObject || next.fields.length === 0 ? undefined : next;
}

function messageFields(plan: MessagePlan): ShapeField[] {
  return plan.fields.map((field) => ({ key: field.jsonName, alias: aliasOf(field, field.jsonName), field, whole: true, children: childrenOf(field) }));
}

function outlineFields(outline: readonly SelectionOutline[]): ShapeField[] {
  return outline.map((entry) => {
    const renamed = entry.outKey !== entry.field.jsonName;
    const sub = entry.sub;
    return {
      key: entry.outKey,
      alias: renamed ? undefined : aliasOf(entry.field, entry.outKey),
      field: entry.field,
      whole: sub === undefined,
      children: sub === undefined ? childrenOf(entry.field) : () => outlineFields(sub),
    };
  });
}

function aliasOf(field: FieldPlan, key: string): string | undefined {
  return field.protoName === key ? undefined : field.protoName;
}

function childrenOf(field: FieldPlan): () => readonly ShapeField[] | undefined {
  let made: { value: readonly ShapeField[] | undefined } | undefined;
  return () => {
    if (made === undefined) {
      const next = walkableMessage(field);
      made = { value: next === undefined ? undefined : messageFields(next) };
    }
    return made.value;
  };
}

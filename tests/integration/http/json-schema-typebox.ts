/**
 * Rebuilds a TypeBox schema from the plain JSON Schema the API publishes, so the TypeCompiler can
 * check the published examples against exactly what an integrator downloads (TypeBox compiles
 * only schemas that carry its own Kind markers). Covers the keywords kind schemas use and fails
 * on any other, so a new keyword cannot make the check pass vacuously.
 */
import { Type, type TSchema } from '@sinclair/typebox';

type Json = Record<string, unknown>;

const ANNOTATIONS = new Set(['$id', 'description', 'title', 'examples', 'default']);
const CONSTRAINTS: Record<string, readonly string[]> = {
  string: ['format', 'minLength', 'maxLength', 'pattern'],
  number: ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'],
  integer: ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'],
  boolean: [],
  object: ['minProperties', 'maxProperties'],
  array: ['minItems', 'maxItems', 'uniqueItems'],
};

export function fromJsonSchema(schema: Json): TSchema {
  const pick = (names: readonly string[]) => Object.fromEntries(names.filter((n) => n in schema).map((n) => [n, schema[n]]));
  const known = (extra: readonly string[]) => {
    const unknown = Object.keys(schema).filter((k) => !ANNOTATIONS.has(k) && !extra.includes(k));
    if (unknown.length > 0) throw new Error(`unsupported JSON Schema keywords: ${unknown.join(', ')}`);
  };
  if (Array.isArray(schema.anyOf)) {
    known(['anyOf']);
    return Type.Union((schema.anyOf as Json[]).map(fromJsonSchema));
  }
  if ('const' in schema) {
    known(['const', 'type']);
    return Type.Literal(schema.const as string | number | boolean);
  }
  const type = schema.type as string | undefined;
  if (type === undefined) {
    known([]);
    return Type.Unknown();
  }
  const opts = pick(CONSTRAINTS[type] ?? []);
  switch (type) {
    case 'string':
      known(['type', ...CONSTRAINTS.string!]);
      return Type.String(opts);
    case 'number':
      known(['type', ...CONSTRAINTS.number!]);
      return Type.Number(opts);
    case 'integer':
      known(['type', ...CONSTRAINTS.integer!]);
      return Type.Integer(opts);
    case 'boolean':
      known(['type']);
      return Type.Boolean();
    case 'array':
      known(['type', 'items', ...CONSTRAINTS.array!]);
      return Type.Array(fromJsonSchema((schema.items ?? {}) as Json), opts);
    case 'object': {
      known(['type', 'properties', 'required', 'additionalProperties', 'patternProperties', ...CONSTRAINTS.object!]);
      if (schema.patternProperties !== undefined) {
        const patterns = Object.entries(schema.patternProperties as Record<string, Json>);
        if (patterns.length !== 1 || schema.properties !== undefined) throw new Error('unsupported patternProperties');
        const [[pattern, value]] = patterns as [[string, Json]];
        return Type.Record(Type.RegExp(new RegExp(pattern)), fromJsonSchema(value), opts);
      }
      const required = new Set((schema.required as string[] | undefined) ?? []);
      const properties: Record<string, TSchema> = {};
      for (const [name, value] of Object.entries((schema.properties ?? {}) as Record<string, Json>)) {
        const converted = fromJsonSchema(value);
        properties[name] = required.has(name) ? converted : Type.Optional(converted);
      }
      const additional = schema.additionalProperties;
      return Type.Object(properties, {
        ...opts,
        ...(additional === undefined ? {} : { additionalProperties: additional === false ? false : true }),
      });
    }
    default:
      throw new Error(`unsupported JSON Schema type ${type}`);
  }
}

/**
 * A deliberately tiny header schema: each request type names its fields and their kinds, and the
 * core dispatcher checks them before any handler runs. Unknown fields are refused too, so a typo
 * in a client is an error rather than a silently ignored option. The client checks the server's
 * answers with the same code (src/protocol/answers.ts), trusting a server no more than the server
 * trusts a client.
 */

const kinds = {
  string: (v: unknown) => typeof v === 'string' && v.length <= 4096,
  uint: (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0,
  boolean: (v: unknown) => typeof v === 'boolean',
  sha256: (v: unknown) => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v),
  /** A file's owner: a handle, or null for a file the operator put in the folder. */
  stringOrNull: (v: unknown) => v === null || (typeof v === 'string' && v.length <= 4096),
  strings: (v: unknown) =>
    Array.isArray(v) && v.every((item) => typeof item === 'string' && item.length <= 4096),
  object: (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v),
} as const;

export type FieldKind = keyof typeof kinds;
/** A field is required unless its kind ends with `?`. */
export type Schema = Record<string, FieldKind | `${FieldKind}?`>;

/** The value a field of each kind holds once checked. */
interface KindValue {
  string: string;
  uint: number;
  boolean: boolean;
  sha256: string;
  stringOrNull: string | null;
  strings: string[];
  object: Record<string, unknown>;
}

type RequiredFields<S extends Schema> = {
  [K in keyof S as S[K] extends FieldKind ? K : never]: KindValue[S[K] & FieldKind];
};
type OptionalFields<S extends Schema> = {
  [K in keyof S as S[K] extends FieldKind ? never : K]?: S[K] extends `${infer F extends
    FieldKind}?`
    ? KindValue[F]
    : never;
};

/**
 * The type of a request whose fields passed `schema`: what a handler's `request` is, inferred
 * from its `params` (as fastify's type providers infer a route's body from its JSON schema).
 * `id` is always there (a request without one is refused); `body` when the request carries one.
 */
export type RequestOf<S extends Schema> = {
  readonly type: string;
  readonly id: number;
  readonly body?: number;
} & (string extends keyof S
  ? // A schema not known to the compiler: any fields.
    Readonly<Record<string, unknown>>
  : Readonly<RequiredFields<S> & OptionalFields<S>>);

/** Fields every frame may carry, whatever its type. */
const FRAME_FIELDS = new Set(['type', 'id', 'body']);

export interface SchemaOptions {
  /**
   * Whether fields the schema does not name are refused (requests: a typo is an error) or
   * ignored (answers: a newer server may say more, and the client reads only what it names).
   */
  extra?: 'refuse' | 'ignore';
}

/** The first problem with `header` against `schema`, or undefined when it conforms. */
export function schemaProblem(
  header: Record<string, unknown>,
  schema: Schema,
  { extra = 'refuse' }: SchemaOptions = {},
): string | undefined {
  for (const [field, spec] of Object.entries(schema)) {
    const optional = spec.endsWith('?');
    const kind = (optional ? spec.slice(0, -1) : spec) as FieldKind;
    const value = header[field];
    if (value === undefined) {
      if (!optional) return `missing field "${field}"`;
      continue;
    }
    if (!kinds[kind](value)) return `field "${field}" must be ${kind}`;
  }
  if (extra === 'ignore') return undefined;
  for (const field of Object.keys(header)) {
    if (!FRAME_FIELDS.has(field) && !Object.hasOwn(schema, field))
      return `unexpected field "${field}"`;
  }
  return undefined;
}

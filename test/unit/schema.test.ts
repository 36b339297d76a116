/** The header schema the core dispatcher checks before any handler runs. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { schemaProblem, type Schema } from '../../src/protocol/schema.js';

const SHA = 'a'.repeat(64);
const schema: Schema = { name: 'string', size: 'uint', sha256: 'sha256?', force: 'boolean?' };

describe('schemaProblem', () => {
  it('accepts a header with the required fields and the frame fields', () => {
    assert.equal(
      schemaProblem({ type: 'store', id: 4, body: 10, name: 'a.txt', size: 10 }, schema),
      undefined,
    );
    assert.equal(schemaProblem({ type: 'data', id: 1, body: 3 }, {}), undefined);
  });

  it('accepts optional fields when present and of the right kind', () => {
    assert.equal(
      schemaProblem({ type: 'x', name: 'a', size: 0, sha256: SHA, force: false }, schema),
      undefined,
    );
  });

  it('reports a missing required field by name', () => {
    assert.match(schemaProblem({ type: 'x', name: 'a' }, schema) ?? '', /missing field "size"/);
    assert.match(schemaProblem({ type: 'x', size: 1 }, schema) ?? '', /missing field "name"/);
  });

  it('refuses values of the wrong kind', () => {
    const bad: Record<string, unknown>[] = [
      { name: 7, size: 1 },
      { name: 'a', size: -1 },
      { name: 'a', size: 1.5 },
      { name: 'a', size: '1' },
      { name: 'a', size: 2 ** 53 },
      { name: 'a', size: 1, sha256: 'A'.repeat(64) },
      { name: 'a', size: 1, sha256: 'a'.repeat(63) },
      { name: 'a', size: 1, force: 'yes' },
      { name: 'x'.repeat(4097), size: 1 },
      { name: null, size: 1 },
    ];
    for (const header of bad)
      assert.match(
        schemaProblem({ type: 'x', ...header }, schema) ?? '',
        /must be/,
        JSON.stringify(header),
      );
  });

  it('refuses unexpected fields by name', () => {
    assert.match(
      schemaProblem({ type: 'x', name: 'a', size: 1, nmae: 'typo' }, schema) ?? '',
      /unexpected field "nmae"/,
    );
    assert.match(schemaProblem({ type: 'x', extra: 1 }, {}) ?? '', /unexpected field "extra"/);
  });

  it('ignores unexpected fields when asked to (answers from a newer server)', () => {
    const header = { type: 'ok', name: 'a', size: 1, later: true };
    assert.equal(schemaProblem(header, schema, { extra: 'ignore' }), undefined);
    assert.match(schemaProblem(header, schema) ?? '', /unexpected field "later"/);
    // Ignoring extras still checks every named field.
    assert.match(
      schemaProblem({ ...header, size: 1.5 }, schema, { extra: 'ignore' }) ?? '',
      /"size" must be uint/,
    );
  });

  it('checks the kinds answers use: owner or null, string lists, objects', () => {
    const answer: Schema = { owner: 'stringOrNull', types: 'strings', limits: 'object' };
    const good = { owner: null, types: ['a', 'b'], limits: { maxFileSize: 1 } };
    assert.equal(schemaProblem(good, answer), undefined);
    assert.equal(schemaProblem({ ...good, owner: 'Bob' }, answer), undefined);
    for (const bad of [
      { owner: 5 },
      { types: 'a' },
      { types: ['a', 1] },
      { limits: null },
      { limits: [1] },
    ])
      assert.match(
        schemaProblem({ ...good, ...bad }, answer) ?? '',
        /must be/,
        JSON.stringify(bad),
      );
  });
});

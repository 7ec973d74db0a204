import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { jsonSchema, jsonSchemaText, SCHEMA_FILE } from './jsonschema.js';

test('schema/warden.schema.json is the JSON Schema generated from the zod schema', () => {
  assert.equal(
    readFileSync(SCHEMA_FILE, 'utf8'),
    jsonSchemaText(),
    'schema/warden.schema.json is out of date; regenerate it with: npm run build && node dist/src/config/jsonschema.js --write',
  );
});

test('the JSON Schema leaves defaulted fields optional and rejects unknown keys', () => {
  const s = jsonSchema() as {
    required: string[];
    additionalProperties: boolean;
    properties: { agent: { required: string[]; properties: Record<string, { default?: unknown }> } };
  };
  assert.deepEqual(s.required, ['version', 'agent']);
  assert.equal(s.additionalProperties, false);
  assert.deepEqual(s.properties.agent.required, ['name']);
  assert.equal(s.properties.agent.properties.mode?.default, 'recommend');
});

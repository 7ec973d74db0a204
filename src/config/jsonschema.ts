// JSON Schema of warden.yaml for editors (yaml-language-server and friends), generated from the
// same zod schema that validates the file so the two cannot disagree. schema/warden.schema.json is
// this output, committed; a test fails when it drifts. Regenerate with:
//   npm run build && node dist/src/config/jsonschema.js --write
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { channels } from '../notify/channels.js';
import { PROBE_TYPES } from '../probes/index.js';
import { subjects } from '../subjects/index.js';
import { checkSchema, configSchema, notifySchema, subjectSchema } from './schema.js';

export function jsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configSchema, {
    // Input side: fields with defaults are optional, as they are in the file.
    io: 'input',
    target: 'draft-2020-12',
    override: (ctx) => {
      // "Exactly one probe per check" (and channel per notify entry) is a rule in semantic.ts; editors get it as oneOf.
      if (ctx.zodSchema === checkSchema) ctx.jsonSchema.oneOf = PROBE_TYPES.map((t) => ({ required: [t] }));
      if (ctx.zodSchema === notifySchema) ctx.jsonSchema.oneOf = Object.keys(channels).map((t) => ({ required: [t] }));
      if (ctx.zodSchema === subjectSchema) ctx.jsonSchema.oneOf = Object.keys(subjects).map((t) => ({ required: [t] }));
    },
  });
}

/** The committed file's text: stable key order and a trailing newline, so diffs stay quiet. */
export function jsonSchemaText(): string {
  return `${JSON.stringify(jsonSchema(), null, 2)}\n`;
}

/** schema/warden.schema.json in the checkout this module was compiled into (dist/src/config/ → root). */
export const SCHEMA_FILE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'schema', 'warden.schema.json');

// Run directly: print the schema, or with --write replace the committed file.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--write')) {
    writeFileSync(SCHEMA_FILE, jsonSchemaText());
    process.stderr.write(`wrote ${SCHEMA_FILE}\n`);
  } else {
    process.stdout.write(jsonSchemaText());
  }
}

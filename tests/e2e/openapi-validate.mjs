// Validates an OpenAPI document with @apidevtools/swagger-parser (OpenAPI 3.1 aware).
// Usage: node openapi-validate.mjs FILE. Prints {"valid": true, "version", "paths"} or
// {"valid": false, "error"} and exits non-zero when invalid.
import SwaggerParser from '@apidevtools/swagger-parser';
import { readFileSync } from 'node:fs';

const file = process.argv[2];
try {
  const doc = JSON.parse(readFileSync(file, 'utf8'));
  const api = await SwaggerParser.validate(doc);
  console.log(JSON.stringify({ valid: true, version: api.openapi, paths: Object.keys(api.paths).length }));
} catch (e) {
  console.log(JSON.stringify({ valid: false, error: String(e && e.message || e) }));
  process.exit(1);
}

// The graphql-http server audits (GraphQL over HTTP spec) against a running
// studio: every MUST passes; SHOULD and MAY results are printed, and the
// README says why those that fail do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auditServer } from 'graphql-http';

const base = process.env.STUDIO_URL;
assert.ok(base, 'set STUDIO_URL');

test('graphql-http audit: every MUST passes', async () => {
  const results = await auditServer({ url: `${base}/graphql` });
  const count = { ok: 0, warn: 0, error: 0 };
  for (const r of results) {
    count[r.status]++;
    if (r.status !== 'ok') {
      console.log(`${r.status.toUpperCase()} ${r.name}: ${r.reason}`);
    }
  }
  console.log(`graphql-http audit: ${count.ok} ok, ${count.warn} SHOULD/MAY warnings, ${count.error} MUST failures`);
  const failures = results.filter((r) => r.status === 'error').map((r) => `${r.name}: ${r.reason}`);
  assert.deepEqual(failures, []);
});

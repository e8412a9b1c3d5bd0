// relay-compiler, as a Relay app runs it, compiles fragments against
// studio's schema: @refetchable needs Query.node and interface Node,
// @connection needs PageInfo's four fields.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

test('relay-compiler compiles @connection and @refetchable fragments', () => {
  const dir = mkdtempSync(join(tmpdir(), 'studio-relay-'));
  mkdirSync(join(dir, 'src'));
  mkdirSync(join(dir, '__generated__'));
  cpSync(join(here, 'relay', 'treeRow.js'), join(dir, 'src', 'treeRow.js'));
  // relay-compiler reads a schema file by its .graphql ending.
  cpSync(join(here, '..', 'schema.graphqls'), join(dir, 'schema.graphql'));
  writeFileSync(join(dir, 'relay.config.json'), JSON.stringify({
    src: './src', schema: './schema.graphql', language: 'javascript', artifactDirectory: './__generated__',
  }));
  const run = spawnSync(join(here, 'node_modules', '.bin', 'relay-compiler'), [], { cwd: dir, encoding: 'utf8' });
  const out = `${run.stdout}${run.stderr}`;
  assert.equal(run.status, 0, out);
  assert.doesNotMatch(out, /ERROR/, out);
  assert.deepEqual(readdirSync(join(dir, '__generated__')).sort(),
    ['TreeRowRefetchQuery.graphql.js', 'treeChannelQuery.graphql.js', 'treeRow_node.graphql.js']);
});

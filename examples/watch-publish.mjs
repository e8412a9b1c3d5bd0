#!/usr/bin/env node
// Publishes a channel and prints the publish's progress as it happens, over a
// websocket (graphql-transport-ws) with the graphql-ws client.
//
//   npm install        (once, in this directory; Node 20 or later)
//   STUDIO_TOKEN=<token> node watch-publish.mjs <channel id> [version notes]
//   STUDIO_TOKEN=<token> node watch-publish.mjs --job <job id>
//
// STUDIO_URL is the server (default http://127.0.0.1:8080). The token is the
// one `studio serve` printed on its first start (kept in
// studio-data/admin-token), or one from `studio token create --email E`.
// Exits 0 when the publish completes, 1 when it does not.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const base = (process.env.STUDIO_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
const token = process.env.STUDIO_TOKEN;
const args = process.argv.slice(2);

function fail(message) {
  console.error(`watch-publish: ${message}`);
  process.exit(1);
}

if (!token) {
  fail('set STUDIO_TOKEN to an API token: the one `studio serve` printed on its first start ' +
    '(kept in studio-data/admin-token), or one from `studio token create --email E`');
}
if (args.length === 0 || (args[0] === '--job' && args.length !== 2)) {
  fail('usage: node watch-publish.mjs <channel id> [version notes]  or  node watch-publish.mjs --job <job id>');
}

// gql sends a query or mutation and returns its data; GraphQL errors throw,
// with their codes (extensions.code), which say what kind of mistake it was.
async function gql(query, variables) {
  let res;
  try {
    res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
  } catch (err) {
    fail(`cannot reach studio at ${base} (${err.cause?.code ?? err.cause?.errors?.[0]?.code ?? err.message}): start it with \`go run ./cmd/studio serve\`, or set STUDIO_URL`);
  }
  const body = await res.json();
  if (body.errors) {
    fail(body.errors.map((e) => `${e.extensions?.code ?? 'ERROR'}: ${e.message}`).join('\n'));
  }
  return body.data;
}

let jobId;
if (args[0] === '--job') {
  jobId = args[1];
} else {
  const [channelId, notes] = args;
  // While a publish of the channel is queued or running, this returns it.
  const { publishChannel } = await gql(
    `mutation($c: ID!, $notes: String) { publishChannel(channelId: $c, versionNotes: $notes) { id state } }`,
    { c: channelId, notes: notes ?? null },
  );
  jobId = publishChannel.id;
  console.log(`publishing channel ${channelId}: job ${jobId}`);
}

// jobUpdated sends the job's state now, then every step, and ends after the
// final one: the loop below ends with it.
const client = createClient({
  url: base.replace(/^http/, 'ws') + '/graphql',
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${token}` },
  retryAttempts: 0,
});
let last;
try {
  const events = client.iterate({
    query: `subscription($id: ID!) { jobUpdated(id: $id) { state progress error version channel { name } } }`,
    variables: { id: jobId },
  });
  for await (const result of events) {
    if (result.errors) {
      fail(result.errors.map((e) => `${e.extensions?.code ?? 'ERROR'}: ${e.message}`).join('\n'));
    }
    const job = result.data.jobUpdated;
    if (!job) {
      fail(`job ${jobId} does not exist, or you may not see it`);
    }
    let line = `${job.state.padEnd(9)} ${String(job.progress).padStart(3)}%`;
    if (job.version) line += `  version ${job.version} of ${job.channel?.name ?? 'the channel'}`;
    if (job.error) line += `  error: ${job.error}`;
    console.log(line);
    last = job;
  }
} catch (err) {
  // A closed socket or a refused connection arrives here, not as a result.
  fail(`the subscription failed: ${err.message ?? err.reason ?? JSON.stringify(err)}`);
} finally {
  await client.dispose();
}
process.exit(last?.state === 'COMPLETED' ? 0 : 1);

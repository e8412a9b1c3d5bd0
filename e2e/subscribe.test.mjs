// The graphql-ws client (graphql-transport-ws) subscribing to a channel's
// changes on a running studio. STUDIO_URL and STUDIO_TOKEN (an admin's) say
// where; .ci/run starts the server and sets them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const base = process.env.STUDIO_URL;
const token = process.env.STUDIO_TOKEN;
assert.ok(base && token, 'set STUDIO_URL and STUDIO_TOKEN');

async function gql(query, variables, auth = token) {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(auth ? { Authorization: `Bearer ${auth}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data;
}

function client(auth) {
  return createClient({
    url: base.replace(/^http/, 'ws') + '/graphql',
    webSocketImpl: WebSocket,
    connectionParams: auth ? { Authorization: `Bearer ${auth}` } : {},
    retryAttempts: 0,
  });
}

const subscription = `subscription($c: ID!, $since: Int) {
  channelChanges(channelId: $c, since: $since) { serverRev type table key }
}`;

test('graphql-ws receives the changes of a channel as they commit', async () => {
  const { createChannel } = await gql(`mutation { createChannel(input: {name: "e2e", language: "en"}) { id serverRev root { id } } }`);
  const ws = client(token);
  try {
    // From the rev the channel was at, so that the change is seen however
    // the subscription and the mutation race.
    const events = ws.iterate({ query: subscription, variables: { c: createChannel.id, since: createChannel.serverRev } });
    const created = gql(`mutation($p: ID!) { createContentNodes(input: [{parentId: $p, kind: topic, title: "Live"}]) { id } }`,
      { p: createChannel.root.id });
    const first = await events.next();
    assert.equal(first.value.errors, undefined);
    const change = first.value.data.channelChanges;
    assert.equal(change.type, 'CREATED');
    assert.equal(change.table, 'contentnode');
    assert.equal(change.key, (await created).createContentNodes[0].id);
    assert.ok(change.serverRev > createChannel.serverRev);
    await events.return();
  } finally {
    await ws.dispose();
  }
});

test('graphql-ws replays from a rev', async () => {
  const { createChannel } = await gql(`mutation { createChannel(input: {name: "replay"}) { id } }`);
  const ws = client(token);
  try {
    const events = ws.iterate({ query: subscription, variables: { c: createChannel.id, since: 0 } });
    const first = await events.next();
    assert.equal(first.value.data.channelChanges.type, 'CREATED');
    assert.equal(first.value.data.channelChanges.table, 'channel');
    await events.return();
  } finally {
    await ws.dispose();
  }
});

test('a subscription without permission is refused and streams nothing', async () => {
  const { createChannel } = await gql(`mutation { createChannel(input: {name: "private"}) { id } }`);
  const ws = client(null); // anonymous: the channel is private
  try {
    const events = ws.iterate({ query: subscription, variables: { c: createChannel.id, since: 0 } });
    const first = await events.next();
    assert.equal(first.value.data, null);
    assert.equal(first.value.errors[0].extensions.code, 'NOT_FOUND');
    const end = await events.next();
    assert.equal(end.done, true);
  } finally {
    await ws.dispose();
  }
});

test('a bad token: the client gives up after one attempt, with its default retries', async () => {
  let sockets = 0;
  class CountingWebSocket extends WebSocket {
    constructor(...args) {
      super(...args);
      sockets++;
    }
  }
  const ws = createClient({
    url: base.replace(/^http/, 'ws') + '/graphql',
    webSocketImpl: CountingWebSocket,
    connectionParams: { Authorization: 'Bearer studio_revoked-or-never-issued' },
  });
  try {
    const closed = await new Promise((resolve) => {
      ws.subscribe({ query: '{ __typename }' }, { next() {}, error: resolve, complete: () => resolve(null) });
    });
    assert.equal(closed?.code, 4401, `closed with ${closed?.code} ${closed?.reason}`);
    await new Promise((r) => setTimeout(r, 4500)); // graphql-ws's first retry comes 1.3–4 s after a close it retries
    assert.equal(sockets, 1, 'one attempt, no reconnects');
  } finally {
    await ws.dispose();
  }
});

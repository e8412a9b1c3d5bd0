// urql with graphcache and Apollo Client with InMemoryCache, as published
// on npm and with their default settings (no custom Accept, no cache
// updaters), editing one channel together on a running studio: each
// client's normalized cache stays right from what the API answers and
// what channelChanges pushes. STUDIO_URL says where; STUDIO_E2E_EMAIL and
// STUDIO_E2E_PASSWORD are a user's (.ci/run creates it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, fetchExchange, subscriptionExchange, gql } from '@urql/core';
import { cacheExchange } from '@urql/exchange-graphcache';
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const base = process.env.STUDIO_URL;
const email = process.env.STUDIO_E2E_EMAIL;
const password = process.env.STUDIO_E2E_PASSWORD;
assert.ok(base && email && password, 'set STUDIO_URL, STUDIO_E2E_EMAIL and STUDIO_E2E_PASSWORD');
const wsURL = base.replace(/^http/, 'ws') + '/graphql';

const LOGIN = gql`mutation Login($email: String!, $password: String!) { login(email: $email, password: $password) { token user { id email } } }`;
const CHILDREN = `children(first: 50) { edges { node { id title } } }`;
const TREE = gql`query Tree($id: ID!) { contentNode(id: $id) { id title ${CHILDREN} } }`;
const CREATE = gql`mutation Create($in: [CreateContentNodeInput!]!) {
  createContentNodes(input: $in) { id title parent { id ${CHILDREN} } } }`;
const RENAME = gql`mutation Rename($id: ID!, $title: String!) { updateContentNodes(input: [{id: $id, title: $title}]) { id title } }`;
const MOVE = gql`mutation Move($ids: [ID!]!, $target: ID!) { moveContentNodes(ids: $ids, target: $target) { id parent { id ${CHILDREN} } } }`;
const DELETE = gql`mutation Delete($ids: [ID!]!) { deleteContentNodes(ids: $ids) }`;
const CHANGES = gql`subscription Changes($c: ID!, $since: Int) { channelChanges(channelId: $c, since: $since) {
  serverRev type table node { id title } parent { id ${CHILDREN} } previousParent { id ${CHILDREN} } } }`;
const DOC = gql`query Doc($id: ID!) { contentNode(id: $id) { id complete files { id preset { id } } } }`;
const UPLOAD = gql`mutation Upload($in: UploadFileInput!) { uploadFile(input: $in) { id node { id complete files { id preset { id } } } } }`;

const titles = (data) => data?.contentNode?.children.edges.map((e) => e.node.title) ?? null;

// until polls fn until it returns something truthy.
async function until(what, fn, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function urqlClient() {
  let token = null;
  const ws = createClient({ url: wsURL, webSocketImpl: WebSocket, connectionParams: () => ({ Authorization: `Bearer ${token}` }) });
  const client = new Client({
    url: `${base}/graphql`,
    exchanges: [cacheExchange({}), fetchExchange, subscriptionExchange({
      forwardSubscription(request) {
        const input = { ...request, query: request.query || '' };
        return { subscribe: (sink) => ({ unsubscribe: ws.subscribe(input, sink) }) };
      },
    })],
    fetchOptions: () => (token ? { headers: { Authorization: `Bearer ${token}` } } : {}),
  });
  return { client, ws, setToken: (t) => { token = t; } };
}

function apolloClient() {
  let token = null;
  const http = new HttpLink({ uri: `${base}/graphql`, headers: {} });
  const auth = new ApolloLink((op, forward) => {
    if (token) op.setContext({ headers: { Authorization: `Bearer ${token}` } });
    return forward(op);
  });
  const ws = createClient({ url: wsURL, webSocketImpl: WebSocket, connectionParams: () => ({ Authorization: `Bearer ${token}` }) });
  const link = ApolloLink.split(
    ({ query }) => { const d = getMainDefinition(query); return d.kind === 'OperationDefinition' && d.operation === 'subscription'; },
    new GraphQLWsLink(ws),
    auth.concat(http),
  );
  const client = new ApolloClient({ link, cache: new InMemoryCache() });
  return { client, ws, setToken: (t) => { token = t; } };
}

async function ok(result) {
  const r = await result;
  assert.equal(r.error, undefined, r.error?.message);
  return r.data;
}

test('urql and Apollo keep their caches right with no updaters', async () => {
  const a = urqlClient();
  const b = apolloClient();
  let sub;
  try {
    // Log in, each client on its own.
    const login = await ok(a.client.mutation(LOGIN, { email, password }).toPromise());
    a.setToken(login.login.token);
    const loginB = await b.client.mutate({ mutation: LOGIN, variables: { email, password } });
    b.setToken(loginB.data.login.token);

    const made = await ok(a.client.mutation(gql`mutation { createChannel(input: {name: "Clients", language: "en"}) { id serverRev root { id } } }`, {}).toPromise());
    const channel = made.createChannel.id;
    const root = made.createChannel.root.id;
    const since = made.createChannel.serverRev;

    // Page the tree lazily: the root's children, then a topic's on demand.
    assert.deepEqual(titles(await ok(a.client.query(TREE, { id: root }).toPromise())), []);
    const created = await ok(a.client.mutation(CREATE, { in: [
      { parentId: root, kind: 'topic', title: 'A' }, { parentId: root, kind: 'topic', title: 'B' },
      { parentId: root, kind: 'document', title: 'Notes', license: 'CC BY', copyrightHolder: 'Us' }] }).toPromise());
    const [A, B, doc] = created.createContentNodes.map((n) => n.id);
    assert.deepEqual(titles(a.client.readQuery(TREE, { id: root })?.data), ['A', 'B', 'Notes'], 'a create shows in the cached list');
    assert.deepEqual(titles(await ok(a.client.query(TREE, { id: A }).toPromise())), []);
    assert.deepEqual(titles(await ok(a.client.query(TREE, { id: B }).toPromise())), []);
    const leaf = (await ok(a.client.mutation(CREATE, { in: [{ parentId: A, kind: 'topic', title: 'Leaf' }] }).toPromise())).createContentNodes[0].id;
    assert.deepEqual(titles(a.client.readQuery(TREE, { id: A })?.data), ['Leaf']);

    // Live changes flow into urql's cache.
    sub = a.client.subscription(CHANGES, { c: channel, since }).subscribe(() => {});

    // Rename: every cached list shows it.
    await ok(a.client.mutation(RENAME, { id: leaf, title: 'Leaf (renamed)' }).toPromise());
    assert.deepEqual(titles(a.client.readQuery(TREE, { id: A })?.data), ['Leaf (renamed)']);

    // Move: the node joins its new parent's list and leaves the old one's.
    await ok(a.client.mutation(MOVE, { ids: [leaf], target: B }).toPromise());
    assert.deepEqual(titles(a.client.readQuery(TREE, { id: B })?.data), ['Leaf (renamed)']);
    await until('the old parent to lose the node', () => titles(a.client.readQuery(TREE, { id: A })?.data)?.length === 0);

    // Another client's edit (Apollo) arrives in urql's cache over channelChanges.
    const tree = await b.client.query({ query: TREE, variables: { id: root } });
    assert.deepEqual(titles(tree.data), ['A', 'B', 'Notes']);
    await b.client.mutate({ mutation: RENAME, variables: { id: B, title: 'B (from Apollo)' } });
    assert.deepEqual(titles(b.client.readQuery({ query: TREE, variables: { id: root } })), ['A', 'B (from Apollo)', 'Notes'], "Apollo's cache too");
    await until("Apollo's edit in urql's cache", () => titles(a.client.readQuery(TREE, { id: root })?.data)?.[1] === 'B (from Apollo)');

    // Delete: to the trash, and out of the cached list.
    await ok(a.client.mutation(DELETE, { ids: [leaf] }).toPromise());
    await until('the deleted node to leave its list', () => titles(a.client.readQuery(TREE, { id: B })?.data)?.length === 0);

    // Upload: the node's files and completeness follow from the answer.
    const before = await ok(a.client.query(DOC, { id: doc }).toPromise());
    assert.equal(before.contentNode.files.length, 0);
    const file = new File([Buffer.from('%PDF-1.4 notes')], 'notes.pdf', { type: 'application/pdf' });
    await ok(a.client.mutation(UPLOAD, { in: { file, preset: 'document', nodeId: doc } }).toPromise());
    const after = a.client.readQuery(DOC, { id: doc })?.data;
    assert.equal(after.contentNode.files.length, 1, 'the upload shows on the cached node');
    assert.equal(after.contentNode.complete, true);

    // Publish, followed with jobUpdated (Apollo over graphql-ws).
    const pub = await b.client.mutate({ mutation: gql`mutation($c: ID!) { publishChannel(channelId: $c) { id state } }`, variables: { c: channel } });
    const job = pub.data.publishChannel.id;
    const states = [];
    await new Promise((resolve, reject) => {
      const s = b.client.subscribe({ query: gql`subscription($id: ID!) { jobUpdated(id: $id) { id state progress error } }`, variables: { id: job } })
        .subscribe({
          next: (r) => {
            if (r.error) { reject(r.error); return; }
            const j = r.data.jobUpdated;
            states.push(j.state);
            if (j.state === 'COMPLETED') { s.unsubscribe(); resolve(); }
            if (j.state === 'FAILED') { s.unsubscribe(); reject(new Error(j.error)); }
          },
          error: reject,
        });
      setTimeout(() => reject(new Error(`no COMPLETED in 60 s: ${states}`)), 60000).unref();
    });
    assert.equal(states.at(-1), 'COMPLETED');
  } finally {
    sub?.unsubscribe();
    await a.ws.dispose();
    await b.ws.dispose();
    b.client.stop();
  }
});

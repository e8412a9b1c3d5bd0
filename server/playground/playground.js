// studio's GraphQL playground: plain JavaScript, no libraries, nothing loaded
// from elsewhere, so that it works on a machine with no connection.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const el = {
    token: $("token"),
    tokenShow: $("token-show"),
    tokenNote: $("token-note"),
    query: $("query"),
    variables: $("variables"),
    run: $("run"),
    example: $("example"),
    status: $("status"),
    errors: $("errors"),
    result: $("result"),
    schema: $("schema"),
    schemaFilter: $("schema-filter"),
    schemaStatus: $("schema-status"),
    riverui: $("riverui"),
  };

  const endpoint = "/graphql";
  const keys = {
    token: "studio.playground.token",
    query: "studio.playground.query",
    variables: "studio.playground.variables",
  };
  const example = `# Ctrl+Enter runs. Click a field under Schema for a sample query.
{
  me { email isAdmin }
  channels(first: 10) {
    totalCount
    edges { node { id name } }
  }
}
`;
  const tokenNoteDefault = el.tokenNote.innerHTML;

  // localStorage can be off (private windows, policies): then nothing is kept.
  const store = {
    get(k) { try { return localStorage.getItem(k); } catch { return null; } },
    set(k, v) { try { localStorage.setItem(k, v); } catch { /* not kept */ } },
    del(k) { try { localStorage.removeItem(k); } catch { /* not kept */ } },
  };

  // ---- Token ----

  // offered is the admin token the server offered, if any. It is not kept in
  // localStorage: the server offers it again on the next visit.
  let offered = "";

  function showTokenNote() {
    const usingOffer = offered !== "" && el.token.value.trim() === offered;
    el.tokenNote.classList.toggle("offered", usingOffer);
    if (usingOffer) {
      el.tokenNote.textContent = "Using the admin token printed at first start (this machine only).";
    } else {
      el.tokenNote.innerHTML = tokenNoteDefault;
    }
  }

  // offerToken asks the server for the first admin's token, which it gives
  // only to a browser on its own machine (404 otherwise), and uses it if the
  // field is empty.
  async function offerToken() {
    if (el.token.value.trim() !== "") return;
    try {
      const resp = await fetch("/playground/token", { cache: "no-store" });
      if (!resp.ok) return;
      const body = await resp.json();
      if (typeof body.token === "string" && body.token !== "" && el.token.value.trim() === "") {
        offered = body.token;
        el.token.value = offered;
        showTokenNote();
      }
    } catch {
      // No offer: the field stays empty.
    }
  }

  function onTokenInput() {
    const token = el.token.value.trim();
    if (token === "") store.del(keys.token);
    else if (token !== offered) store.set(keys.token, token);
    showTokenNote();
  }

  function toggleTokenShown() {
    const shown = el.token.type === "password";
    el.token.type = shown ? "text" : "password";
    el.tokenShow.setAttribute("aria-pressed", String(shown));
    el.tokenShow.textContent = shown ? "Hide" : "Show";
  }

  // River's UI takes an admin's token once in its URL (the server then
  // keeps it in a cookie and drops it from the address).
  function openRiverUI() {
    const token = el.token.value.trim();
    el.riverui.href = token ? "/riverui/?token=" + encodeURIComponent(token) : "/riverui/";
  }

  // ---- Running ----

  // running aborts the request in flight (a subscription streams until stopped).
  let running = null;
  let streaming = false;

  function setStatus(text) { el.status.textContent = text; }

  function setRunButton() {
    el.run.textContent = streaming ? "Stop" : "Run";
    el.run.setAttribute("aria-busy", String(running !== null));
  }

  function showErrors(errors) {
    el.errors.replaceChildren();
    for (const e of errors || []) {
      const li = document.createElement("li");
      const code = e && e.extensions && e.extensions.code;
      if (code) {
        const c = document.createElement("code");
        c.textContent = code;
        li.append(c, " ");
      }
      li.append(String((e && e.message) || "error"));
      if (e && Array.isArray(e.path)) li.append(" (at " + e.path.join(".") + ")");
      el.errors.append(li);
    }
    el.errors.hidden = el.errors.children.length === 0;
  }

  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }

  // showResponse prints a response body, pretty when it is JSON.
  function showResponse(httpStatus, text, ms) {
    let body;
    try { body = JSON.parse(text); } catch { body = undefined; }
    const took = Math.round(ms) + " ms";
    if (body === undefined) {
      showErrors([]);
      el.result.textContent = text;
      setStatus("HTTP " + httpStatus + " · " + took + " · the answer is not JSON");
      return;
    }
    el.result.textContent = JSON.stringify(body, null, 2);
    const errors = Array.isArray(body.errors) ? body.errors : [];
    showErrors(errors);
    setStatus("HTTP " + httpStatus + " · " + took + (errors.length ? " · " + plural(errors.length, "error") : " · ok"));
  }

  function showProblem(message) {
    showErrors([]);
    el.result.textContent = message;
    setStatus(message);
  }

  // operationKind says whether a document's first operation is a query, a
  // mutation or a subscription, skipping strings, comments and fragments.
  function operationKind(doc) {
    const src = doc.replace(/"""[\s\S]*?"""|"(?:[^"\\\n]|\\.)*"|#[^\n]*/g, " ");
    let depth = 0;
    let wordsAtTop = 0;
    for (const [tok] of src.matchAll(/[{}]|[_A-Za-z][_0-9A-Za-z]*/g)) {
      if (tok === "{") {
        if (depth === 0 && wordsAtTop === 0) return "query"; // { … } shorthand
        depth++;
      } else if (tok === "}") {
        depth = Math.max(0, depth - 1);
        if (depth === 0) wordsAtTop = 0;
      } else if (depth === 0) {
        if (wordsAtTop === 0 && (tok === "query" || tok === "mutation" || tok === "subscription")) return tok;
        wordsAtTop++;
      }
    }
    return "query";
  }

  function readVariables() {
    const text = el.variables.value.trim();
    if (text === "") return { ok: true, value: undefined };
    let value;
    try {
      value = JSON.parse(text);
    } catch (e) {
      return { ok: false, message: "The variables are not valid JSON: " + e.message };
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      return { ok: false, message: "The variables must be a JSON object, such as {\"id\": \"…\"}." };
    }
    return { ok: true, value };
  }

  function stop() {
    if (running) running.abort();
  }

  async function run() {
    stop();
    const query = el.query.value;
    if (query.trim() === "") {
      showProblem("Write a query first.");
      el.query.focus();
      return;
    }
    const vars = readVariables();
    if (!vars.ok) {
      showProblem(vars.message);
      return;
    }
    const subscription = operationKind(query) === "subscription";
    const headers = {
      "Content-Type": "application/json",
      // SSE: the server streams a subscription's events on this request.
      Accept: subscription ? "text/event-stream" : "application/json",
    };
    const token = el.token.value.trim();
    if (token) headers.Authorization = "Bearer " + token;

    const ctl = new AbortController();
    running = ctl;
    streaming = subscription;
    setRunButton();
    setStatus(subscription ? "Subscribing…" : "Running…");
    const started = performance.now();
    try {
      const resp = await fetch(endpoint, {
        method: "POST",
        headers,
        body: JSON.stringify({ query, variables: vars.value }),
        signal: ctl.signal,
      });
      const type = resp.headers.get("Content-Type") || "";
      if (subscription && resp.ok && type.startsWith("text/event-stream")) {
        await readEvents(resp, ctl);
      } else {
        showResponse(resp.status, await resp.text(), performance.now() - started);
      }
    } catch (e) {
      if (e.name === "AbortError") {
        if (running === ctl) setStatus("Stopped.");
      } else {
        showProblem("The request failed: " + e.message + ". Is the server running?");
      }
    } finally {
      if (running === ctl) {
        running = null;
        streaming = false;
        setRunButton();
      }
    }
  }

  // readEvents shows a subscription's events (Server-Sent Events) as they
  // come, newest last, until the server completes it or the user stops it.
  async function readEvents(resp, ctl) {
    const reader = resp.body.getReader();
    const decoder = new TextDecoder();
    const shown = [];
    let buffer = "";
    let count = 0;
    showErrors([]);
    el.result.textContent = "";
    setStatus("Subscribed: waiting for events…");
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
        }
        if (event === "complete") {
          setStatus("Subscription complete · " + plural(count, "event"));
          return;
        }
        if (data.length === 0) continue; // a keep-alive
        count++;
        let body;
        try { body = JSON.parse(data.join("\n")); } catch { body = data.join("\n"); }
        if (body && Array.isArray(body.errors)) showErrors(body.errors);
        // Keep the last 100 events, so that a long stream does not grow the page forever.
        shown.push("# event " + count + " · " + new Date().toLocaleTimeString() + "\n" + JSON.stringify(body, null, 2));
        if (shown.length > 100) shown.shift();
        el.result.textContent = shown.join("\n\n");
        el.result.scrollTop = el.result.scrollHeight;
        if (running === ctl) setStatus("Subscribed · " + plural(count, "event") + " · Run stops");
      }
    }
    setStatus("The stream ended · " + plural(count, "event"));
  }

  // ---- Schema explorer ----

  const typeRef = "kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";
  const introspection = `query StudioPlaygroundSchema {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types {
      kind name
      fields { name description args { name description defaultValue type { ${typeRef} } } type { ${typeRef} } }
      inputFields { name defaultValue type { ${typeRef} } }
      enumValues { name }
    }
  }
}`;

  let types = new Map(); // name → introspected type

  function typeString(t) {
    if (t.kind === "NON_NULL") return typeString(t.ofType) + "!";
    if (t.kind === "LIST") return "[" + typeString(t.ofType) + "]";
    return t.name;
  }

  function namedType(t) {
    while (t.ofType) t = t.ofType;
    return t.name;
  }

  const isRequired = (a) => a.type.kind === "NON_NULL" && a.defaultValue == null;
  const isLeaf = (name) => {
    const t = types.get(name);
    return !t || t.kind === "SCALAR" || t.kind === "ENUM";
  };

  // selection picks a sample of a type's fields: its first plain fields, and
  // through Relay connections (edges, node), so that a sample runs as is.
  function selection(typeName, indent, depth) {
    const t = types.get(typeName);
    if (!t || t.kind === "SCALAR" || t.kind === "ENUM") return "";
    if (!t.fields) return " { __typename }";
    const usable = t.fields.filter((f) => !f.args.some(isRequired));
    const lines = usable.filter((f) => isLeaf(namedType(f.type))).slice(0, 8).map((f) => indent + "  " + f.name);
    if (depth < 4) {
      for (const f of usable) {
        if (f.name === "edges" || f.name === "node") {
          lines.push(indent + "  " + f.name + selection(namedType(f.type), indent + "  ", depth + 1));
        }
      }
    }
    if (lines.length === 0) lines.push(indent + "  __typename");
    return " {\n" + lines.join("\n") + "\n" + indent + "}";
  }

  // placeholder is a value of a variable's type for the variables editor.
  function placeholder(t, depth) {
    if (t.kind === "NON_NULL") return placeholder(t.ofType, depth);
    if (t.kind === "LIST") return [];
    const named = types.get(t.name);
    if (named && named.kind === "ENUM") return named.enumValues[0].name;
    if (named && named.kind === "INPUT_OBJECT") {
      const obj = {};
      if (depth < 3) {
        for (const f of named.inputFields) if (isRequired(f)) obj[f.name] = placeholder(f.type, depth + 1);
      }
      return obj;
    }
    switch (t.name) {
      case "Int": case "Float": return 0;
      case "Boolean": return false;
      case "JSON": return {};
      default: return "";
    }
  }

  // sampleFor writes an operation that calls one root field, its required
  // arguments as variables.
  function sampleFor(kind, field) {
    const required = field.args.filter(isRequired);
    const name = field.name.charAt(0).toUpperCase() + field.name.slice(1);
    const defs = required.map((a) => "$" + a.name + ": " + typeString(a.type)).join(", ");
    const args = required.map((a) => a.name + ": $" + a.name).join(", ");
    const query = kind + " " + name + (defs ? "(" + defs + ")" : "") + " {\n  " +
      field.name + (args ? "(" + args + ")" : "") + selection(namedType(field.type), "  ", 0) + "\n}\n";
    const vars = {};
    for (const a of required) vars[a.name] = placeholder(a.type, 0);
    return { query, variables: required.length ? JSON.stringify(vars, null, 2) : "" };
  }

  // replaceText replaces a text area's content as typing would, so that
  // Ctrl+Z brings the old text back where the browser allows it.
  function replaceText(area, text) {
    area.focus();
    area.select();
    let done = false;
    try { done = document.execCommand("insertText", false, text); } catch { done = false; }
    if (!done || area.value !== text) {
      area.value = text;
      area.dispatchEvent(new Event("input"));
    }
    area.setSelectionRange(0, 0);
    area.scrollTop = 0;
  }

  function insertSample(kind, field) {
    const s = sampleFor(kind, field);
    replaceText(el.variables, s.variables);
    replaceText(el.query, s.query); // last, so that focus ends in the query editor
    setStatus("Inserted a sample " + kind + " for " + field.name + ". Ctrl+Enter runs it.");
  }

  function renderSchema(schema) {
    types = new Map(schema.types.map((t) => [t.name, t]));
    const roots = [
      ["query", "Query", schema.queryType],
      ["mutation", "Mutation", schema.mutationType],
      ["subscription", "Subscription", schema.subscriptionType],
    ];
    const parts = [];
    for (const [kind, title, ref] of roots) {
      const t = ref && types.get(ref.name);
      if (!t) continue;
      const h = document.createElement("h3");
      h.textContent = title;
      const ul = document.createElement("ul");
      ul.setAttribute("aria-label", title + " fields");
      for (const f of t.fields) ul.append(fieldItem(kind, f));
      parts.push(h, ul);
    }
    el.schema.replaceChildren(...parts);
    el.schemaStatus.textContent = "Click a field to insert a sample operation.";
  }

  function fieldItem(kind, f) {
    const li = document.createElement("li");
    li.className = "op";
    li.dataset.search = (f.name + " " + (f.description || "")).toLowerCase();
    const b = document.createElement("button");
    b.type = "button";
    b.className = "fname";
    b.dataset.field = kind + "." + f.name;
    b.textContent = f.name;
    b.title = "Insert a sample " + kind + " calling " + f.name;
    b.addEventListener("click", () => insertSample(kind, f));
    const args = f.args.map((a) => a.name + ": " + typeString(a.type) + (a.defaultValue != null ? " = " + a.defaultValue : ""));
    const sig = document.createElement("code");
    sig.className = "sig";
    sig.textContent = (args.length ? "(" + args.join(", ") + ")" : "") + ": " + typeString(f.type);
    li.append(b, sig);
    if (f.description) {
      const p = document.createElement("p");
      p.textContent = f.description;
      li.append(p);
    }
    const described = f.args.filter((a) => a.description);
    if (described.length) {
      const ul = document.createElement("ul");
      ul.className = "args";
      for (const a of described) {
        const ali = document.createElement("li");
        const c = document.createElement("code");
        c.textContent = a.name;
        ali.append(c, " " + a.description);
        ul.append(ali);
      }
      li.append(ul);
    }
    return li;
  }

  function filterSchema() {
    const words = el.schemaFilter.value.toLowerCase().split(/\s+/).filter(Boolean);
    for (const li of el.schema.querySelectorAll("li.op")) {
      li.hidden = !words.every((w) => li.dataset.search.includes(w));
    }
  }

  // loadSchema lists the root fields. It sends no token: the schema is the
  // same for everyone, and a stale token should not hide it.
  async function loadSchema() {
    try {
      const resp = await fetch(endpoint, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ query: introspection }),
      });
      const body = await resp.json();
      if (body.data && body.data.__schema) {
        renderSchema(body.data.__schema);
        return;
      }
      const errors = body.errors || [];
      const message = errors.map((e) => e.message).join("; ");
      // The server refuses __schema itself when introspection is off
      // (FORBIDDEN, "introspection is turned off on this server").
      const off = errors.some((e) => /introspection/i.test(e.message) || e.extensions?.code === "FORBIDDEN");
      el.schemaStatus.textContent = off
        ? "Introspection is off on this server (--no-introspection), so the schema cannot be listed here. schema.graphqls is the reference."
        : "The schema could not be read: " + (message || "HTTP " + resp.status);
    } catch (e) {
      el.schemaStatus.textContent = "The schema could not be read: " + e.message;
    }
  }

  // ---- Start ----

  // The URL (?query=…&variables=…) comes first, then what this browser
  // kept, then the example. A query from the URL is only filled in, never
  // run: a link from anywhere could otherwise run a mutation with this
  // browser's token. The user reads it and presses Run.
  async function start() {
    const params = new URLSearchParams(location.search);
    const linked = params.has("query") || params.has("variables");
    el.query.value = params.get("query") ?? store.get(keys.query) ?? example;
    el.variables.value = params.get("variables") ?? store.get(keys.variables) ?? "";
    el.token.value = store.get(keys.token) ?? "";

    el.token.addEventListener("input", onTokenInput);
    el.tokenShow.addEventListener("click", toggleTokenShown);
    el.query.addEventListener("input", () => store.set(keys.query, el.query.value));
    el.variables.addEventListener("input", () => store.set(keys.variables, el.variables.value));
    el.run.addEventListener("click", () => (streaming ? stop() : run()));
    el.example.addEventListener("click", () => {
      replaceText(el.variables, "");
      replaceText(el.query, example);
    });
    el.schemaFilter.addEventListener("input", filterSchema);
    el.riverui.addEventListener("click", openRiverUI);
    document.addEventListener("keydown", (e) => {
      if ((e.ctrlKey || e.metaKey) && e.key === "Enter") {
        e.preventDefault();
        run();
      }
    });

    loadSchema();
    await offerToken();
    if (linked) setStatus("Filled in from the link, not run: read it, then press Run.");
  }

  start();
})();

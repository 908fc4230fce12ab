// The catalog's own GraphQL explorer: a query editor, a run button, a result pane and schema
// docs read by introspection. No external script, so it works offline.
(function () {
  "use strict";
  const endpoint = location.pathname;
  const $ = (id) => document.getElementById(id);
  const status = $("gql-status");

  async function post(query, variables) {
    const response = await fetch(endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ query, variables }),
    });
    return response.json();
  }

  async function run() {
    let variables = {};
    try {
      variables = JSON.parse($("gql-variables").value || "{}");
    } catch (err) {
      $("gql-result").textContent = "Variables are not valid JSON: " + err.message;
      return;
    }
    status.textContent = "running…";
    const started = performance.now();
    try {
      const body = await post($("gql-query").value, variables);
      $("gql-result").textContent = JSON.stringify(body, null, 2);
      status.textContent = (body.errors ? "errors" : "ok") + " in " + Math.round(performance.now() - started) + " ms";
    } catch (err) {
      $("gql-result").textContent = String(err);
      status.textContent = "failed";
    }
  }

  const INTROSPECTION = `{ __schema { queryType { name } types { name kind description
    fields { name description args { name type { ...T } } type { ...T } }
    inputFields { name type { ...T } } } } }
    fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }`;

  function typeName(t) {
    if (!t) return "";
    if (t.kind === "NON_NULL") return typeName(t.ofType) + "!";
    if (t.kind === "LIST") return "[" + typeName(t.ofType) + "]";
    return t.name;
  }
  function baseName(t) { return t && t.ofType ? baseName(t.ofType) : t && t.name; }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    Object.assign(node, attrs || {});
    for (const child of children) node.append(child);
    return node;
  }

  function showType(types, name) {
    const type = types[name];
    const body = $("gql-docs-body");
    body.replaceChildren();
    body.classList.remove("muted");
    body.append(el("h4", {}, type.name + " ", el("span", { className: "muted" }, type.kind.toLowerCase())));
    if (type.description) body.append(el("p", { className: "muted" }, type.description));
    const list = el("ul", { className: "gql-fields" });
    for (const f of type.fields || type.inputFields || []) {
      const args = (f.args || []).map((a) => a.name + ": " + typeName(a.type)).join(", ");
      const target = baseName(f.type);
      const link = types[target] && ["OBJECT", "INPUT_OBJECT"].includes(types[target].kind)
        ? el("a", { href: "#", onclick: (e) => { e.preventDefault(); showType(types, target); } }, typeName(f.type))
        : typeName(f.type);
      const item = el("li", {}, el("code", {}, f.name + (args ? "(" + args + ")" : "")), ": ", link);
      if (f.description) item.append(el("div", { className: "muted" }, f.description));
      list.append(item);
    }
    body.append(list);
    if (name !== queryType) {
      body.append(el("a", { href: "#", onclick: (e) => { e.preventDefault(); showType(types, queryType); } }, "← " + queryType));
    }
  }

  let queryType = "Query";
  async function loadDocs() {
    try {
      const body = await post(INTROSPECTION, {});
      if (body.errors) throw new Error(body.errors.map((e) => e.message).join("; "));
      const types = {};
      for (const t of body.data.__schema.types) types[t.name] = t;
      queryType = body.data.__schema.queryType.name;
      showType(types, queryType);
    } catch (err) {
      $("gql-docs-body").textContent = "Could not read the schema: " + err.message;
    }
  }

  $("gql-run").addEventListener("click", run);
  $("gql-query").addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) run(); });
  const fromUrl = new URLSearchParams(location.search).get("query");
  if (fromUrl) $("gql-query").value = fromUrl;
  loadDocs();
})();

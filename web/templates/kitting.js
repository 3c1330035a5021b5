// The kitting page: a client of the popkit JSON API. See web/kitting.go.
"use strict";
(function () {
  const KEY = "pk_kitting_token", NODE = "pk_kitting_node";
  const ACTIVE = ["open", "accepted", "kitting", "ready", "on_hold", "out_for_delivery"];
  const LABEL = {accepted: "Accept", kitting: "Start kitting", ready: "Ready", out_for_delivery: "Out for delivery",
    delivered: "Delivered", picked_up: "Picked up", on_hold: "Hold", cancelled: "Cancel", failed: "Failed"};
  const steps = JSON.parse(document.body.dataset.steps);
  const refreshMS = Number(document.body.dataset.refresh) || 5000;
  const $ = (id) => document.getElementById(id);
  const skuNames = new Map();
  let timer = null, busy = false, again = false;

  function token() { return sessionStorage.getItem(KEY) || ""; }
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v; else if (k.startsWith("data-")) e.setAttribute(k, v); else e[k] = v;
    }
    for (const k of kids) e.append(k);
    return e;
  }
  function showError(msg) { $("error").textContent = msg || ""; }

  async function api(method, path, body) {
    const res = await fetch(path, {method, headers: Object.assign({"Authorization": "Bearer " + token()},
      body ? {"Content-Type": "application/json"} : {}), body: body ? JSON.stringify(body) : undefined});
    const data = await res.json().catch(() => ({}));
    if (res.status === 401) { signOut("Your token is no longer valid. Sign in again."); throw new Error("unauthorized"); }
    if (!res.ok) { throw new Error(data.detail || data.title || ("HTTP " + res.status)); }
    return data;
  }

  function signOut(msg) {
    sessionStorage.removeItem(KEY);
    sessionStorage.removeItem(NODE);
    clearInterval(timer);
    timer = null;
    $("board").hidden = true; $("board").replaceChildren();
    $("node").hidden = true; $("node-label").hidden = true; $("signout").hidden = true;
    $("signin").hidden = false;
    $("status").textContent = "";
    showError(msg);
  }

  async function start() {
    $("signin").hidden = true;
    $("signout").hidden = false;
    let nodes;
    try {
      nodes = (await api("GET", "/api/v1/nodes?limit=200")).items || [];
    } catch (e) { if (token()) showError(e.message); return; }
    if (nodes.length === 0) { showError("This token sees no fulfilment node."); return; }
    const sel = $("node");
    sel.replaceChildren(...nodes.map((n) => el("option", {value: n.id, textContent: n.name})));
    const saved = sessionStorage.getItem(NODE);
    if (saved && nodes.some((n) => n.id === saved)) sel.value = saved;
    sel.hidden = false; $("node-label").hidden = false;
    sel.disabled = nodes.length === 1;
    showError("");
    await refresh();
    clearInterval(timer);
    timer = setInterval(refresh, refreshMS);
  }

  async function skuName(id) {
    if (!skuNames.has(id)) {
      skuNames.set(id, api("GET", "/api/v1/skus/" + id).then((s) => s.name + " (" + s.code + ")", () => id.slice(0, 8)));
    }
    return skuNames.get(id);
  }

  async function card(fo) {
    const lines = await Promise.all((fo.lines || []).map(async (l) =>
      el("li", {}, l.quantity + " × " + await skuName(l.sku_id) + (l.made ? " (make)" : ""))));
    const badges = el("div", {});
    if (fo.perishable) badges.append(el("span", {class: "badge perishable"}, "perishable"));
    if (fo.status === "on_hold") badges.append(el("span", {class: "badge held"}, "on hold from " + fo.held_from));
    if (fo.bundle_id) badges.append(el("span", {class: "badge"}, "bundle " + fo.bundle_id.slice(-6)));
    const next = fo.status === "on_hold" ? [fo.held_from, "cancelled"] : (steps[fo.status] || []);
    const buttons = el("div", {class: "steps"}, ...next.map((to) => {
      const b = el("button", {type: "button", class: "to-" + to, "data-to": to,
        textContent: fo.status === "on_hold" && to === fo.held_from ? "Release to " + to.replace(/_/g, " ") : (LABEL[to] || to)});
      b.addEventListener("click", () => move(fo, to, b));
      return b;
    }));
    return el("article", {class: "fo", "data-id": fo.id, "data-status": fo.status},
      el("strong", {}, "Order …" + fo.order_id.slice(-6)), " ", el("small", {}, fo.units + " units"),
      badges, el("ul", {}, ...lines), buttons);
  }

  async function move(fo, to, button) {
    let reason = "";
    if (to === "failed") {
      reason = prompt("Why did the delivery fail?") || "";
      if (!reason) return;
    } else if (to === "cancelled" && !confirm("Cancel this fulfilment order?")) {
      return;
    }
    button.disabled = true;
    try {
      await api("POST", "/api/v1/fulfilment-orders/" + fo.id + "/transitions", {to, reason});
      showError("");
    } catch (e) {
      showError(e.message);
    }
    await refresh();
  }

  async function refresh() {
    const node = $("node").value;
    if (!node || !token()) return;
    if (busy) { again = true; return; }
    busy = true;
    sessionStorage.setItem(NODE, node);
    try {
      const lists = await Promise.all(ACTIVE.map((s) =>
        api("GET", "/api/v1/fulfilment-orders?limit=200&node_id=" + encodeURIComponent(node) + "&status=" + s)));
      const cols = await Promise.all(ACTIVE.map(async (s, i) => {
        const items = lists[i].items || [];
        return el("section", {class: "col", "data-status": s},
          el("h2", {}, s.replace(/_/g, " ") + " (" + items.length + ")"), ...await Promise.all(items.map(card)));
      }));
      $("board").replaceChildren(...cols);
      $("board").hidden = false;
      $("status").textContent = "Updated " + new Date().toLocaleTimeString();
    } catch (e) {
      showError(e.message);
    } finally {
      busy = false;
      if (again) { again = false; refresh(); }
    }
  }

  $("signin").addEventListener("submit", (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(KEY, $("token").value.trim());
    $("token").value = "";
    start();
  });
  $("signout").addEventListener("click", () => signOut(""));
  $("node").addEventListener("change", refresh);
  if (token()) start(); else signOut("");
})();

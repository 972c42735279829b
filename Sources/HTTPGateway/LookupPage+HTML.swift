/// The browser page `/` serves (see LookupPage), compiled into the binary: an operator who
/// installs only the executable (as `deploy/onebzd.service` and the Dockerfile do) gets
/// the page too, with no resource bundle to copy beside it.
extension LookupPage {
    static let source = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>1bz name lookup</title>
<style>
  :root { font-family: system-ui, sans-serif; color: #1d232a; background: #f6f7f9; }
  main { max-width: 46rem; margin: 3rem auto; padding: 0 1rem; }
  h1 { font-size: 1.6rem; margin-bottom: .25rem; }
  p.lead { color: #56606b; margin-top: 0; }
  form { display: flex; gap: .5rem; margin: 1.5rem 0; }
  input { flex: 1; font-size: 1.1rem; padding: .55rem .7rem; border: 1px solid #b9c0c8; border-radius: 6px; }
  button { font-size: 1.05rem; padding: .55rem 1.1rem; border: 0; border-radius: 6px; background: #2357c6; color: #fff; cursor: pointer; }
  #result { background: #fff; border: 1px solid #dde1e6; border-radius: 8px; padding: 1rem 1.25rem; }
  #result[hidden] { display: none; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: .45rem 1rem; margin: 0; }
  dt { color: #56606b; }
  dd { margin: 0; font-family: ui-monospace, monospace; word-break: break-all; }
  #r-public-key { white-space: pre-wrap; font-size: .85rem; }
  .badge { display: inline-block; padding: .1rem .55rem; border-radius: 999px; font-family: system-ui, sans-serif; font-size: .9rem; }
  .yes { background: #dcf5e3; color: #146c2e; }
  .no { background: #fde2e1; color: #a4231c; }
  .error { color: #a4231c; }
</style>
</head>
<body>
<main>
  <h1>Look up a .1bz name</h1>
  <p class="lead">Answers come from the BizNodeRegistry contract and the node's signed metadata,
    checked by this server before they are shown.</p>
  <form id="lookup">
    <input id="name" name="name" placeholder="shashi.1bz" autocomplete="off" spellcheck="false" required>
    <button type="submit">Resolve</button>
  </form>
  <section id="result" hidden aria-live="polite"></section>
</main>
<script>
"use strict";
const form = document.getElementById("lookup");
const input = document.getElementById("name");
const result = document.getElementById("result");

function badge(ok, yes, no) {
  const span = document.createElement("span");
  span.className = "badge " + (ok ? "yes" : "no");
  span.textContent = ok ? yes : no;
  return span;
}

function row(list, label, value, id) {
  const dt = document.createElement("dt");
  dt.textContent = label;
  const dd = document.createElement("dd");
  dd.id = id;
  if (value instanceof Node) dd.appendChild(value); else dd.textContent = value;
  list.append(dt, dd);
}

function show(data) {
  result.replaceChildren();
  const list = document.createElement("dl");
  const addresses = [...(data.ipv4 || []), ...(data.ipv6 || [])];
  row(list, "Name", data.name, "r-name");
  row(list, "Addresses", addresses.length ? addresses.join(", ") : "none published", "r-addresses");
  row(list, "Node id", data.node_id, "r-node-id");
  row(list, "Public key", data.public_key || "unknown", "r-public-key");
  row(list, "Trust", String(data.trust ?? "unknown"), "r-trust");
  row(list, "Verified on chain", badge(data.verified, "verified", "not verified"), "r-verified");
  row(list, "Metadata signature", badge(data.metadata_verified, "checked", "not checked"), "r-signature");
  row(list, "Wallet", data.wallet, "r-wallet");
  row(list, "Block", String(data.block), "r-block");
  result.appendChild(list);
  result.hidden = false;
}

// Proof mode (chain.verify = "proof"): this server checked storage proofs against a
// block its RPC endpoints agreed on. The page does not re-check them itself; anyone can,
// against an endpoint of their own: onebz verify NAME --gateway URL --rpc URL.
async function showProof(name) {
  try {
    const response = await fetch("/resolve?name=" + encodeURIComponent(name) + "&proof=1");
    if (!response.ok) return;
    const body = await response.json();
    if (!body.proof || !body.proof.block) return;
    const list = result.querySelector("dl");
    if (!list) return;
    row(list, "Chain proof", "proof checked at block " + body.proof.block.number + " (by this server; check it yourself with onebz verify)", "r-proof");
  } catch (error) { /* no proof mode: nothing to show */ }
}

function fail(message) {
  result.replaceChildren();
  const p = document.createElement("p");
  p.className = "error";
  p.id = "r-error";
  p.textContent = message;
  result.appendChild(p);
  result.hidden = false;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = input.value.trim();
  if (!name) return;
  history.replaceState(null, "", "?name=" + encodeURIComponent(name));
  try {
    const response = await fetch("/resolve?name=" + encodeURIComponent(name));
    const body = await response.json();
    if (!response.ok) { fail(body.detail || body.error || ("HTTP " + response.status)); return; }
    show(body);
    showProof(name);
  } catch (error) {
    fail("The gateway did not answer: " + error.message);
  }
});

const initial = new URLSearchParams(location.search).get("name");
if (initial) { input.value = initial; form.requestSubmit(); }
</script>
</body>
</html>
"""#
}

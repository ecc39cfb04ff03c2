// An independent Yjs client for Tandem's interop tests: the real y-websocket provider or
// the real @hocuspocus/provider, editing a draft's `body` XmlFragment like Tiptap would.
//
//   node client.mjs --protocol yws|hocuspocus --url ws://127.0.0.1:PORT --doc draft:ID
//                   [--doc draft:ID2 ...] --token TOKEN [--text "from node"] [--count N]
//                   [--expect TEXT ...] [--session-awareness] [--timeout-ms 15000]
//
// Prints one JSON line: {"ok": true, "docs": {name: {text, xml}}, "unsynced": n,
// "awareness": [...states seen from others]} or {"ok": false, "error": ...}; also reports
// {"denied": reason} when the server refuses the document.
import WebSocket from "ws";
import * as Y from "yjs";
import { WebsocketProvider } from "y-websocket";
import { HocuspocusProvider, HocuspocusProviderWebsocket } from "@hocuspocus/provider";

const args = { doc: [], expect: [], protocol: "yws", text: "from node", count: 3, timeoutMs: 15000 };
for (let i = 2; i < process.argv.length; i++) {
  const key = process.argv[i].replace(/^--/, "").replace(/-(\w)/g, (_, c) => c.toUpperCase());
  if (key === "sessionAwareness") { args.sessionAwareness = true; continue; }
  const value = process.argv[++i];
  if (Array.isArray(args[key])) args[key].push(value);
  else args[key] = /^\d+$/.test(value) ? Number(value) : value;
}

const finish = (result, code = 0) => {
  process.stdout.write(JSON.stringify(result) + "\n");
  process.exit(code);
};
setTimeout(() => finish({ ok: false, error: `timed out after ${args.timeoutMs} ms`, docs: snapshot() }, 1),
  args.timeoutMs);

const docs = new Map(args.doc.map((name) => [name, new Y.Doc()]));
const providers = new Map();

function plainText(fragment) {
  const lines = [];
  for (const block of fragment.toArray()) {
    if (block instanceof Y.XmlElement) {
      lines.push(block.toArray().filter((c) => c instanceof Y.XmlText).map((c) => c.toString()).join(""));
    }
  }
  return lines.join("\n");
}

function snapshot() {
  const out = {};
  for (const [name, doc] of docs) {
    const body = doc.getXmlFragment("body");
    out[name] = { text: plainText(body), xml: body.toString(), headers: doc.getMap("headers").toJSON() };
  }
  return out;
}

function write(doc, name) {
  const body = doc.getXmlFragment("body");
  for (let i = 0; i < args.count; i++) {
    doc.transact(() => {
      const paragraph = new Y.XmlElement("paragraph");
      paragraph.insert(0, [new Y.XmlText(`${args.text} ${i} ${name}`)]);
      body.insert(body.length, [paragraph]);
    });
  }
}

const expectationsMet = () =>
  [...docs.values()].every((doc) => {
    const text = plainText(doc.getXmlFragment("body"));
    return args.expect.every((wanted) => text.includes(wanted));
  });

function othersAwareness() {
  const states = [];
  for (const provider of providers.values()) {
    for (const [clientId, state] of provider.awareness.getStates()) {
      if (clientId !== provider.awareness.clientID) states.push(state);
    }
  }
  return states;
}

async function waitUntil(predicate) {
  while (!predicate()) await new Promise((resolve) => setTimeout(resolve, 25));
}

async function runYws() {
  const [name] = args.doc;
  const doc = docs.get(name);
  const provider = new WebsocketProvider(`${args.url}/yws`, name, doc, {
    WebSocketPolyfill: WebSocket,
    params: args.token ? { token: args.token } : {},
  });
  providers.set(name, provider);
  provider.on("connection-close", (event) => {
    if (event && event.code >= 4000) {
      provider.disconnect();
      finish({ ok: true, closeCode: event.code, closeReason: event.reason, docs: snapshot() });
    }
  });
  await new Promise((resolve) => provider.once("sync", resolve));
  provider.awareness.setLocalStateField("user", { name: "node-yws", color: "#f00" });
  write(doc, name);
  await waitUntil(expectationsMet);
  await new Promise((resolve) => setTimeout(resolve, 300)); // y-websocket has no acks
  finish({ ok: true, docs: snapshot(), awareness: othersAwareness() });
}

async function runHocuspocus() {
  const socket = new HocuspocusProviderWebsocket({ url: `${args.url}/ws`, WebSocketPolyfill: WebSocket });
  const synced = [];
  for (const [name, doc] of docs) {
    const provider = new HocuspocusProvider({
      websocketProvider: socket,
      name,
      document: doc,
      token: args.token ?? "",
      sessionAwareness: Boolean(args.sessionAwareness),
      onAuthenticationFailed: ({ reason }) => finish({ ok: true, denied: reason, docs: snapshot() }),
    });
    provider.attach();
    providers.set(name, provider);
    synced.push(new Promise((resolve) => provider.on("synced", resolve)));
  }
  await Promise.all(synced);
  for (const [name, doc] of docs) {
    providers.get(name).setAwarenessField("user", { name: "node-hocuspocus", color: "#0f0" });
    write(doc, name);
  }
  await waitUntil(() => expectationsMet() && [...providers.values()].every((p) => p.unsyncedChanges === 0));
  const unsynced = [...providers.values()].reduce((sum, p) => sum + p.unsyncedChanges, 0);
  finish({ ok: true, docs: snapshot(), unsynced, awareness: othersAwareness() });
}

(args.protocol === "hocuspocus" ? runHocuspocus() : runYws()).catch((error) =>
  finish({ ok: false, error: String(error && error.stack ? error.stack : error) }, 1));

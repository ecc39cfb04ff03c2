// A headless composer for the co-writing tests: what the web client's Tiptap editor does to
// a draft, without a browser. Every edit is a ProseMirror transaction on the document as
// y-prosemirror reads it from the shared `body`, written back with y-prosemirror's own
// `updateYFragment` (the function its sync plugin calls on every editor transaction), over
// the real @hocuspocus/provider. The caret is published in awareness the way
// y-prosemirror's cursor plugin does it (relative positions), and the other writers'
// carets are read back the same way.
//
//   node composer.mjs --url ws://127.0.0.1:PORT --doc draft:ID --token TOKEN
//                     --steps '[{"op": "type", "text": "Hello there"}, ...]'
//                     [--expect TEXT ...] [--expect-cursor NAME] [--pause-ms 10]
//                     [--timeout-ms 20000]
//
// Steps: {"op": "type", "text", "block"?: index (default: the last textblock),
//         "at"?: offset (default: its end)} types word by word, one transaction per word,
//         pausing between words so two composers interleave;
//        {"op": "paragraph", "text"?} appends a paragraph;
//        {"op": "mark", "find", "mark", "attrs"?} marks the first occurrence of `find`;
//        {"op": "list", "items": [...]} appends a bullet list;
//        {"op": "image", "src", "alt"?} appends an image (src "cid:<attachment id>");
//        {"op": "cursor", "find"} puts the caret after the first occurrence of `find`;
//        {"op": "await", "text"} waits until `text` is in the document (another writer's).
// Prints one JSON line: {"ok": true, "blocks": [text of each block], "json": <doc JSON>,
// "cursors": {name: text before their caret}, "unsynced": n} or {"ok": false, "error"}.
import WebSocket from "ws";
import * as Y from "yjs";
import { HocuspocusProvider, HocuspocusProviderWebsocket } from "@hocuspocus/provider";
import {
  absolutePositionToRelativePosition,
  initProseMirrorDoc,
  relativePositionToAbsolutePosition,
  updateYFragment,
} from "y-prosemirror";
import { EditorState, TextSelection } from "prosemirror-state";
import { schema } from "./schema.mjs";

const args = { expect: [], pauseMs: 10, timeoutMs: 20000, steps: "[]" };
for (let i = 2; i < process.argv.length; i++) {
  const key = process.argv[i].replace(/^--/, "").replace(/-(\w)/g, (_, c) => c.toUpperCase());
  const value = process.argv[++i];
  if (Array.isArray(args[key])) args[key].push(value);
  else args[key] = /^\d+$/.test(value) ? Number(value) : value;
}

const ydoc = new Y.Doc();
const body = ydoc.getXmlFragment("body");
let provider;

const finish = (result, code = 0) => {
  process.stdout.write(JSON.stringify(result) + "\n");
  process.exit(code);
};
setTimeout(() => finish({ ok: false, error: `timed out after ${args.timeoutMs} ms`, ...report() }, 1),
  args.timeoutMs);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function read() {
  return initProseMirrorDoc(body, schema); // {doc, meta, mapping}
}

// One editor transaction: build it on the document as it is now, write it back.
function edit(build) {
  const { doc, meta } = read();
  const tr = build(doc);
  if (!tr || !tr.docChanged) return;
  ydoc.transact(() => updateYFragment(ydoc, body, tr.doc, meta), "composer");
}

function textblocks(doc) {
  const found = [];
  doc.descendants((node, pos) => {
    if (node.isTextblock) found.push({ node, pos });
    return !node.isTextblock;
  });
  return found;
}

function find(doc, needle) {
  let hit = null;
  doc.descendants((node, pos) => {
    if (hit || !node.isTextblock) return !hit;
    const index = node.textContent.indexOf(needle);
    if (index >= 0) hit = { from: pos + 1 + index, to: pos + 1 + index + needle.length };
    return false;
  });
  if (!hit) throw new Error(`text not found: ${needle}`);
  return hit;
}

// Typing moves the caret with the text, as an editor's selection does: it is kept as a Yjs
// relative position bound to the character just typed, so another writer's words arriving
// around it leave it after our own. (Typing goes into a top-level paragraph's text.)
async function type({ text, block, at }) {
  let caret = null;
  for (const word of text.split(/(?<= )/)) {
    const { doc, meta } = read();
    let pos;
    if (caret) {
      const { type: ytext, index } = Y.createAbsolutePositionFromRelativePosition(caret, ydoc);
      const { pos: start } = textblocks(doc)[body.toArray().indexOf(ytext.parent)];
      pos = start + 1 + index;
    } else {
      const blocks = textblocks(doc);
      const target = blocks[block ?? blocks.length - 1];
      pos = target.pos + 1 + Math.min(at ?? target.node.content.size, target.node.content.size);
    }
    const tr = newTr(doc).insertText(word, pos);
    ydoc.transact(() => updateYFragment(ydoc, body, tr.doc, meta), "composer");
    const after = tr.doc.resolve(pos + word.length);
    const ytext = body.get(after.index(0)).get(0);
    caret = Y.createRelativePositionFromTypeIndex(ytext, after.parentOffset, -1);
    await sleep(args.pauseMs);
  }
}

// A transaction without an EditorView: prosemirror-state's EditorState gives the same
// `tr` an editor dispatches.
const newTr = (doc) => EditorState.create({ doc, schema }).tr;

function append(doc, node) {
  return newTr(doc).insert(doc.content.size, node);
}

async function run(step) {
  switch (step.op) {
    case "type":
      return type(step);
    case "paragraph":
      return edit((doc) => append(doc, schema.nodes.paragraph.create(null, step.text ? schema.text(step.text) : null)));
    case "mark":
      return edit((doc) => {
        const { from, to } = find(doc, step.find);
        return newTr(doc).addMark(from, to, schema.marks[step.mark].create(step.attrs ?? null));
      });
    case "list":
      return edit((doc) => append(doc, schema.nodes.bulletList.create(null, step.items.map((item) =>
        schema.nodes.listItem.create(null, schema.nodes.paragraph.create(null, schema.text(item)))))));
    case "image":
      return edit((doc) => append(doc, schema.nodes.image.create({ src: step.src, alt: step.alt ?? null })));
    case "await":
      while (!report().blocks.join("\n").includes(step.text)) await sleep(10);
      return undefined;
    case "cursor": {
      const { doc, mapping } = read();
      const { to } = find(doc, step.find);
      const selection = TextSelection.create(doc, to);
      const anchor = absolutePositionToRelativePosition(selection.anchor, body, mapping);
      const head = absolutePositionToRelativePosition(selection.head, body, mapping);
      provider.setAwarenessField("cursor", {
        anchor: Y.relativePositionToJSON(anchor), head: Y.relativePositionToJSON(head),
      });
      return undefined;
    }
    default:
      throw new Error(`unknown step ${JSON.stringify(step)}`);
  }
}

// Where each other writer's caret is, as the text of its block before it; a caret stays
// on record after its writer leaves (they may finish before we look).
const seen = {};
function cursors() {
  const out = seen;
  if (!provider) return out;
  const { doc, mapping } = read();
  for (const [clientId, state] of provider.awareness.getStates()) {
    if (clientId === provider.awareness.clientID || !state.cursor || !state.user) continue;
    const head = relativePositionToAbsolutePosition(
      ydoc, body, Y.createRelativePositionFromJSON(state.cursor.head), mapping);
    if (head === null) continue;
    const resolved = doc.resolve(head);
    out[state.user.name] = resolved.parent.textBetween(0, resolved.parentOffset);
  }
  return out;
}

function report() {
  const { doc } = read();
  return {
    blocks: textblocks(doc).map(({ node }) => node.textContent),
    json: doc.toJSON(),
    cursors: cursors(),
    unsynced: provider ? provider.unsyncedChanges : null,
  };
}

const done = () => {
  const text = report().blocks.join("\n");
  const seen = cursors();
  return args.expect.every((wanted) => text.includes(wanted))
    && (!args.expectCursor || args.expectCursor in seen)
    && provider.unsyncedChanges === 0;
};

async function main() {
  const socket = new HocuspocusProviderWebsocket({ url: `${args.url}/ws`, WebSocketPolyfill: WebSocket });
  provider = new HocuspocusProvider({
    websocketProvider: socket,
    name: args.doc,
    document: ydoc,
    token: args.token ?? "",
    onAuthenticationFailed: ({ reason }) => finish({ ok: false, denied: reason }, 1),
  });
  provider.attach();
  await new Promise((resolve) => provider.on("synced", resolve));
  provider.setAwarenessField("user", { color: "#36c" }); // the server fills in who we are
  provider.awareness.on("change", () => cursors());
  for (const step of JSON.parse(args.steps)) await run(step);
  while (!done()) await sleep(25);
  finish({ ok: true, ...report() });
}

main().catch((error) => finish({ ok: false, error: String(error && error.stack ? error.stack : error) }, 1));

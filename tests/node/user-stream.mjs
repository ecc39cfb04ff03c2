// The real @hocuspocus/provider subscribed to a user's live stream (`user:<id>` on /ws),
// as the web client does it.
//
//   node user-stream.mjs --url ws://127.0.0.1:PORT --name user:ID --token TOKEN [--timeout-ms 15000]
//
// Prints one JSON line per event until it is killed or times out:
// {"event": "synced", "unsynced": n}, {"event": "stateless", "payload": "..."},
// {"event": "denied", "reason": "..."}.
import WebSocket from "ws";
import * as Y from "yjs";
import { HocuspocusProvider, HocuspocusProviderWebsocket } from "@hocuspocus/provider";

const args = { timeoutMs: 15000 };
for (let i = 2; i < process.argv.length; i += 2) {
  const key = process.argv[i].replace(/^--/, "").replace(/-(\w)/g, (_, c) => c.toUpperCase());
  args[key] = /^\d+$/.test(process.argv[i + 1]) ? Number(process.argv[i + 1]) : process.argv[i + 1];
}

const emit = (event) => process.stdout.write(JSON.stringify(event) + "\n");
setTimeout(() => {
  emit({ event: "timeout" });
  process.exit(1);
}, args.timeoutMs);

const socket = new HocuspocusProviderWebsocket({ url: `${args.url}/ws`, WebSocketPolyfill: WebSocket });
const provider = new HocuspocusProvider({
  websocketProvider: socket,
  name: args.name,
  document: new Y.Doc(),
  token: args.token,
  onAuthenticationFailed: ({ reason }) => emit({ event: "denied", reason }),
  onStateless: ({ payload }) => emit({ event: "stateless", payload }),
});
provider.on("synced", () => emit({ event: "synced", unsynced: provider.unsyncedChanges }));
provider.attach();

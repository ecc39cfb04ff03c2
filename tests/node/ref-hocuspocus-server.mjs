// Reference Hocuspocus server for selfcheck.sh only (not used by the Python tests).
//   PORT=1234 [DENY_TOKEN=bad] node ref-hocuspocus-server.mjs
// No auth, except that the token given in DENY_TOKEN is refused (to exercise --expect-denied).
import { Server } from "@hocuspocus/server";

const port = Number(process.env.PORT || 1234);
const denyToken = process.env.DENY_TOKEN;

const server = new Server({
  port,
  address: "127.0.0.1",
  quiet: true,
  async onAuthenticate({ token }) {
    if (denyToken && token === denyToken) throw new Error("denied by reference server");
  },
});
await server.listen();
console.log(`hocuspocus reference server on ws://127.0.0.1:${port}`);

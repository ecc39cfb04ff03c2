// @hocuspocus/server 4.7.0 with its defaults and no extension (so no persistence): every
// token is accepted. Installed by `npm ci` in tests/node.
//   PORT=1234 node bench/node/hocuspocus-server.mjs
import { Server } from "../../tests/node/node_modules/@hocuspocus/server/dist/hocuspocus-server.esm.js";

const server = new Server({
  port: Number(process.env.PORT || 1234),
  address: "127.0.0.1",
  quiet: true,
});
await server.listen();
console.log(`hocuspocus on ws://127.0.0.1:${server.configuration.port}`);

// The Node reference: @y/websocket-server 0.1.1 (yjs 13, ws 8), no persistence, exactly as
// its own src/server.js starts it. Installed by `npm ci` in tests/node.
//   HOST=127.0.0.1 PORT=1234 node bench/node/yws-server.mjs
import "../../tests/node/node_modules/@y/websocket-server/src/server.js";

#!/usr/bin/env node
// The baseline: a plain `ws` server that relays every frame to every other client. No auth, no
// parsing, no storage: the floor the mesh is compared against. Prints its port on stdout.
import { WebSocketServer } from "ws";
const server = new WebSocketServer({ host: "127.0.0.1", port: 0, maxPayload: 1024 * 1024 });
server.on("connection", (socket) => {
  socket.on("message", (data, isBinary) => {
    for (const client of server.clients) if (client !== socket && client.readyState === 1) client.send(data, { binary: isBinary });
  });
});
server.on("listening", () => console.log(server.address().port));

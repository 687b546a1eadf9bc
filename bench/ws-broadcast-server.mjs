#!/usr/bin/env node
// The baseline: a plain `ws` server that relays every frame to every other client of the same room
// (the URL path), as a task room relays one task's output to its viewers. No auth, no parsing, no
// storage: the floor the mesh is compared against. Prints its port on stdout.
import { WebSocketServer } from "ws";

const server = new WebSocketServer({ host: "127.0.0.1", port: 0, maxPayload: 1024 * 1024 });
/** Room (URL path) → its sockets. */
const rooms = new Map();
server.on("connection", (socket, request) => {
  const name = request.url ?? "/";
  const room = rooms.get(name) ?? new Set();
  rooms.set(name, room);
  room.add(socket);
  socket.on("close", () => room.delete(socket));
  socket.on("message", (data, isBinary) => {
    for (const client of room)
      if (client !== socket && client.readyState === 1) client.send(data, { binary: isBinary });
  });
});
server.on("listening", () => console.log(server.address().port));

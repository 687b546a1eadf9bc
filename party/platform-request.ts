import type * as Party from "partykit/server";

// PartyKit types a room's requests with @cloudflare/workers-types' `Request`; at run time they are the
// standard Fetch `Request` every other module here reads (the same class in workerd). The two
// declarations do not overlap enough for TypeScript to convert one into the other, so the conversion
// lives here, once (docs/rooms.md), instead of a cast at every use.

/** A room's request as the standard Fetch `Request` it is. */
export function standardRequest(request: Party.Request): Request {
  return request as unknown as Request;
}

/** A standard `Request` handed back to PartyKit (what `onBeforeConnect` returns). */
export function partyRequest(request: Request): Party.Request {
  return request as unknown as Party.Request;
}

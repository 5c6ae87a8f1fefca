// A small Fedify-based ActivityPub peer for Transnationality's interoperability tests.
//
//   node peer.mjs --port P --cert C --key K [--domain localhost:P] [--host 127.0.0.1]
//                 [--first-knock rfc9421|draft-cavage-http-signatures-12] [--log-level info]
//
// Serves HTTPS on the given port with one actor, `alice` (a Person with an RSA key pair for
// HTTP signatures and an Ed25519 key pair for Object Integrity Proofs, both generated at
// start), WebFinger, an inbox, followers, and JSON control endpoints under /_control/ that a
// test drives.  Everything is in memory, and activities are delivered synchronously (no
// queue), so a control call returns only once the delivery has been answered.  Prints
// `READY <port>` on stdout once listening.
//
// This is a test tool: it sets `allowPrivateAddress: true` so it can talk to servers on the
// loopback interface.  Never expose it.

import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import https from "node:https";
import { parseArgs } from "node:util";

import {
  createFederation,
  generateCryptoKeyPair,
  MemoryKvStore,
} from "@fedify/fedify";
import {
  Accept,
  Activity,
  Application,
  Create,
  Endpoints,
  Follow,
  Group,
  isActor,
  Mention,
  Note,
  Organization,
  Person,
  PUBLIC_COLLECTION,
  Service,
  Undo,
} from "@fedify/vocab";
import { Temporal } from "@js-temporal/polyfill"; // Node 22 has no global Temporal
import { configure } from "@logtape/logtape";

const { values: args } = parseArgs({
  options: {
    port: { type: "string" },
    cert: { type: "string" },
    key: { type: "string" },
    domain: { type: "string" },
    host: { type: "string", default: "127.0.0.1" },
    "first-knock": { type: "string", default: "rfc9421" },
    "log-level": { type: "string", default: "warning" },
    // Answer RFC 9421-signed inbox POSTs with 401, as a draft-cavage-only server would, so
    // senders have to double-knock.  For testing the peer itself.
    "inbox-rejects-rfc9421": { type: "boolean", default: false },
    username: { type: "string", default: "alice" },
    // The actor's type, to test how peers treat non-Person actors (Group, Application, ...).
    "actor-type": { type: "string", default: "Person" },
  },
  strict: true,
});

if (!args.port || !args.cert || !args.key) {
  console.error("usage: node peer.mjs --port P --cert C --key K [--domain HOST:P]");
  process.exit(2);
}
const port = Number.parseInt(args.port, 10);
const domain = args.domain ?? `localhost:${port}`;
const origin = `https://${domain}`;
const USERNAME = args.username;
const ACTOR_TYPES = { Person, Group, Application, Service, Organization };
const ActorType = ACTOR_TYPES[args["actor-type"]];
if (ActorType === undefined) {
  console.error(`unknown --actor-type ${args["actor-type"]}`);
  process.exit(2);
}
const firstKnock = args["first-knock"];
if (firstKnock !== "rfc9421" && firstKnock !== "draft-cavage-http-signatures-12") {
  console.error(`unknown --first-knock ${firstKnock}`);
  process.exit(2);
}

// Logs go to stderr so stdout carries only the READY line.
await configure({
  contextLocalStorage: new AsyncLocalStorage(),
  sinks: {
    stderr: (record) => {
      const msg = record.message
        .map((part) => (typeof part === "string" ? part : safeInspect(part)))
        .join("");
      process.stderr.write(
        `${new Date(record.timestamp).toISOString()} ${record.level} ${record.category.join(".")}: ${msg}\n`,
      );
    },
  },
  loggers: [
    { category: "fedify", sinks: ["stderr"], lowestLevel: args["log-level"] },
    { category: ["logtape", "meta"], sinks: ["stderr"], lowestLevel: "warning" },
  ],
});

function safeInspect(value) {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  try {
    return typeof value === "object" ? JSON.stringify(value) : String(value);
  } catch {
    return String(value);
  }
}

// ---------------------------------------------------------------------------------------------
// State (in memory, for the life of the process)

const rsaKeyPair = await generateCryptoKeyPair("RSASSA-PKCS1-v1_5");
const ed25519KeyPair = await generateCryptoKeyPair("Ed25519");

/** Every activity alice's inbox accepted (after Fedify verified it), oldest first. */
const received = [];
/** Follows alice sent: follow id -> target actor id. */
const sentFollows = new Map();
/** Actors that accepted one of alice's follows. */
const following = [];
/** Actors following alice (actor id -> {id, inboxId, endpoints}). */
const followers = new Map();
/** Notes alice published: note id (uuid) -> Note. */
const notes = new Map();

// ---------------------------------------------------------------------------------------------
// Federation

const federation = createFederation({
  kv: new MemoryKvStore(),
  origin,
  allowPrivateAddress: true,
  firstKnock,
  // No queue: deliveries happen inline, so control calls report delivery errors.
});

federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
    if (identifier !== USERNAME) return null;
    const keys = await ctx.getActorKeyPairs(identifier);
    return new ActorType({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      name: `${identifier} (Fedify interop peer)`,
      summary: "A Fedify peer for Transnationality interoperability tests.",
      url: ctx.getActorUri(identifier),
      inbox: ctx.getInboxUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      followers: ctx.getFollowersUri(identifier),
      manuallyApprovesFollowers: false,
      publicKey: keys[0].cryptographicKey,
      assertionMethods: keys.map((k) => k.multikey),
    });
  })
  .mapHandle((_ctx, username) => (username === USERNAME ? USERNAME : null))
  .setKeyPairsDispatcher((_ctx, identifier) => {
    if (identifier !== USERNAME) return [];
    return [rsaKeyPair, ed25519KeyPair];
  });

federation.setFollowersDispatcher("/users/{identifier}/followers", (_ctx, identifier) => {
  if (identifier !== USERNAME) return null;
  const items = [...followers.values()].map((f) => ({
    id: new URL(f.id),
    inboxId: f.inboxId ? new URL(f.inboxId) : null,
    endpoints: f.sharedInbox ? { sharedInbox: new URL(f.sharedInbox) } : null,
  }));
  return { items };
});

federation.setObjectDispatcher(
  Note,
  "/users/{identifier}/notes/{id}",
  (_ctx, values) => {
    if (values.identifier !== USERNAME) return null;
    return notes.get(values.id) ?? null;
  },
);

federation
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .on(Follow, async (ctx, follow) => {
    record(ctx, follow);
    if (follow.objectId == null) return;
    const target = ctx.parseUri(follow.objectId);
    if (target?.type !== "actor" || target.identifier !== USERNAME) return;
    const follower = await follow.getActor(ctx);
    if (follower == null || !isActor(follower)) {
      log(`follow ${follow.id?.href}: could not fetch actor`);
      return;
    }
    followers.set(follower.id.href, {
      id: follower.id.href,
      inboxId: follower.inboxId?.href ?? null,
      sharedInbox: follower.endpoints?.sharedInbox?.href ?? null,
    });
    // alice accepts every follow automatically.
    await ctx.sendActivity(
      { identifier: USERNAME },
      follower,
      new Accept({
        id: new URL(`${ctx.getActorUri(USERNAME).href}#accepts/${randomUUID()}`),
        actor: ctx.getActorUri(USERNAME),
        to: follower.id,
        object: follow,
      }),
    );
  })
  .on(Accept, async (ctx, accept) => {
    record(ctx, accept);
    // The object may be embedded or just the Follow's IRI.
    const followId = accept.objectId?.href;
    let target = followId ? sentFollows.get(followId) : undefined;
    if (target === undefined) {
      try {
        const obj = await accept.getObject(ctx);
        if (obj instanceof Follow && obj.actorId?.href === ctx.getActorUri(USERNAME).href) {
          target = obj.objectId?.href ?? accept.actorId?.href;
        }
      } catch (e) {
        log(`accept ${accept.id?.href}: could not resolve object: ${e}`);
      }
    }
    if (target !== undefined) {
      following.push({
        actor: accept.actorId?.href ?? null,
        follow: followId ?? null,
        target,
        accept: accept.id?.href ?? null,
      });
    }
  })
  .on(Undo, async (ctx, undo) => {
    record(ctx, undo);
    const obj = await undo.getObject(ctx).catch(() => null);
    if (obj instanceof Follow && undo.actorId) followers.delete(undo.actorId.href);
  })
  .on(Activity, async (ctx, activity) => {
    record(ctx, activity);
  })
  .onError((_ctx, error) => {
    log(`inbox listener error: ${error?.stack ?? error}`);
  });

function record(ctx, activity) {
  const raw = ctx.data?.rawBody ?? null;
  let json = null;
  try {
    json = raw == null ? null : JSON.parse(raw);
  } catch {
    json = null;
  }
  const headers = ctx.data?.headers ?? {};
  const object = json?.object ?? activity.objectId?.href ?? null;
  received.push({
    type: typeName(json?.type) ?? activity.constructor.name,
    id: activity.id?.href ?? json?.id ?? null,
    actor: activity.actorId?.href ?? idOf(json?.actor),
    object,
    objectId: idOf(object),
    objectType: object && typeof object === "object" ? typeName(object.type) : null,
    recipient: ctx.recipient ?? null,
    inbox: ctx.data?.path ?? null,
    signature: ctx.data?.signatureKind ?? null,
    headers: {
      signature: headers["signature"] ?? null,
      "signature-input": headers["signature-input"] ?? null,
      digest: headers["digest"] ?? null,
      "content-digest": headers["content-digest"] ?? null,
      "content-type": headers["content-type"] ?? null,
    },
    json,
    receivedAt: new Date().toISOString(),
  });
}

function typeName(t) {
  if (Array.isArray(t)) return t.length ? String(t[0]) : null;
  return t == null ? null : String(t);
}

function idOf(value) {
  if (value == null) return null;
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.length ? idOf(value[0]) : null;
  if (typeof value === "object") return value.id ?? value["@id"] ?? null;
  return null;
}

function log(message) {
  process.stderr.write(`${new Date().toISOString()} peer: ${message}\n`);
}

// ---------------------------------------------------------------------------------------------
// Control endpoints

function json(status, body) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

async function lookupActor(ctx, handleOrUri) {
  const obj = await ctx.lookupObject(handleOrUri);
  if (obj == null) throw new ControlError(404, `could not look up ${handleOrUri}`);
  if (!isActor(obj)) {
    throw new ControlError(422, `${handleOrUri} is a ${obj.constructor.name}, not an actor`);
  }
  if (obj.id == null || obj.inboxId == null) {
    throw new ControlError(422, `${handleOrUri} has no id or no inbox`);
  }
  return obj;
}

class ControlError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function handleControl(request, url) {
  const ctx = federation.createContext(new URL(origin), {});
  const action = url.pathname.slice("/_control/".length);
  const body = request.method === "POST" ? await request.json().catch(() => ({})) : {};
  const aliceUri = ctx.getActorUri(USERNAME);
  switch (`${request.method} ${action}`) {
    case "GET actor":
      return json(200, {
        id: aliceUri.href,
        inbox: ctx.getInboxUri(USERNAME).href,
        handle: `@${USERNAME}@${domain}`,
      });
    case "GET received":
      return json(200, received);
    case "GET following":
      return json(200, following);
    case "GET followers":
      return json(200, [...followers.keys()]);
    case "POST reset":
      received.length = 0;
      following.length = 0;
      return json(200, { ok: true });
    case "POST follow": {
      const target = body.handle ?? body.uri;
      if (typeof target !== "string") throw new ControlError(400, "need handle");
      const actor = await lookupActor(ctx, target);
      const follow = new Follow({
        id: new URL(`${aliceUri.href}#follows/${randomUUID()}`),
        actor: aliceUri,
        object: actor.id,
        to: actor.id,
      });
      sentFollows.set(follow.id.href, actor.id.href);
      await ctx.sendActivity({ identifier: USERNAME }, actor, follow);
      return json(200, {
        id: follow.id.href,
        target: actor.id.href,
        targetType: actor.constructor.name,
        inbox: actor.inboxId.href,
      });
    }
    case "POST unfollow": {
      const target = body.handle ?? body.uri;
      if (typeof target !== "string") throw new ControlError(400, "need handle");
      const actor = await lookupActor(ctx, target);
      const followId = [...sentFollows].find(([, t]) => t === actor.id.href)?.[0];
      const undo = new Undo({
        id: new URL(`${aliceUri.href}#undos/${randomUUID()}`),
        actor: aliceUri,
        object: new Follow({
          id: followId ? new URL(followId) : null,
          actor: aliceUri,
          object: actor.id,
        }),
        to: actor.id,
      });
      await ctx.sendActivity({ identifier: USERNAME }, actor, undo);
      return json(200, { id: undo.id.href, target: actor.id.href });
    }
    case "POST create": {
      const to = body.to;
      if (typeof to !== "string") throw new ControlError(400, "need to");
      const content = typeof body.content === "string" ? body.content : "<p>hi</p>";
      const actor = await lookupActor(ctx, to);
      const noteId = randomUUID();
      const noteUri = ctx.getObjectUri(Note, { identifier: USERNAME, id: noteId });
      const published = Temporal.Now.instant();
      const note = new Note({
        id: noteUri,
        attribution: aliceUri,
        tos: [actor.id, PUBLIC_COLLECTION],
        cc: ctx.getFollowersUri(USERNAME),
        content,
        url: noteUri,
        published,
        tags: [new Mention({ href: actor.id })],
      });
      notes.set(noteId, note);
      const create = new Create({
        id: new URL(`${noteUri.href}#create`),
        actor: aliceUri,
        tos: [actor.id, PUBLIC_COLLECTION],
        cc: ctx.getFollowersUri(USERNAME),
        published,
        object: note,
      });
      await ctx.sendActivity({ identifier: USERNAME }, actor, create);
      return json(200, { id: create.id.href, object: noteUri.href, inbox: actor.inboxId.href });
    }
    case "POST reply": {
      // A reply in a forum thread, as Lemmy-compatible clients send it: inReplyTo the post
      // answered, to the group and the public, audience the group, delivered to the group.
      const inReplyTo = body.inReplyTo;
      const groupTarget = body.group;
      if (typeof inReplyTo !== "string" || typeof groupTarget !== "string") {
        throw new ControlError(400, "need inReplyTo and group");
      }
      const content = typeof body.content === "string" ? body.content : "<p>hi</p>";
      const group = await lookupActor(ctx, groupTarget);
      const noteId = randomUUID();
      const noteUri = ctx.getObjectUri(Note, { identifier: USERNAME, id: noteId });
      const published = Temporal.Now.instant();
      const note = new Note({
        id: noteUri,
        attribution: aliceUri,
        replyTarget: new URL(inReplyTo),
        tos: [group.id, PUBLIC_COLLECTION],
        cc: ctx.getFollowersUri(USERNAME),
        audience: group.id,
        content,
        url: noteUri,
        published,
      });
      notes.set(noteId, note);
      const create = new Create({
        id: new URL(`${noteUri.href}#create`),
        actor: aliceUri,
        tos: [group.id, PUBLIC_COLLECTION],
        cc: ctx.getFollowersUri(USERNAME),
        audience: group.id,
        published,
        object: note,
      });
      await ctx.sendActivity({ identifier: USERNAME }, group, create);
      return json(200, { id: create.id.href, object: noteUri.href, inbox: group.inboxId.href });
    }
    default:
      return json(404, { error: `no control action ${request.method} ${action}` });
  }
}

// ---------------------------------------------------------------------------------------------
// HTTPS server (node's https + federation.fetch)

async function toRequest(req, body) {
  const url = new URL(req.url, origin);
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.set(name, value);
  }
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  return new Request(url, {
    method: req.method,
    headers,
    body: hasBody ? body : undefined,
  });
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function handle(req, res) {
  let response;
  try {
    const body = await readBody(req);
    const request = await toRequest(req, body);
    const url = new URL(request.url);
    if (url.pathname.startsWith("/_control/")) {
      try {
        response = await handleControl(request, url);
      } catch (e) {
        const status = e instanceof ControlError ? e.status : 502;
        log(`control ${url.pathname} failed: ${e?.stack ?? e}`);
        response = json(status, { error: String(e?.message ?? e), name: e?.name ?? null });
      }
    } else {
      const lower = Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(", ") : v]),
      );
      const signatureKind = lower["signature-input"]
        ? "rfc9421"
        : lower["signature"]
          ? "draft-cavage"
          : null;
      if (
        args["inbox-rejects-rfc9421"] &&
        req.method === "POST" &&
        url.pathname.endsWith("inbox") &&
        signatureKind === "rfc9421"
      ) {
        log(`POST ${url.pathname} -> 401 (rejecting RFC 9421 on purpose)`);
        return send(res, new Response("RFC 9421 not accepted here\n", { status: 401 }));
      }
      response = await federation.fetch(request, {
        contextData: {
          rawBody: body.length ? body.toString("utf8") : null,
          headers: lower,
          path: url.pathname,
          signatureKind,
        },
        onNotFound: () => new Response("Not found\n", { status: 404 }),
        onNotAcceptable: () => new Response("Not acceptable\n", { status: 406 }),
      });
      if (req.method === "POST" || response.status >= 400) {
        log(`${req.method} ${url.pathname} -> ${response.status} (sig: ${signatureKind ?? "none"})`);
      }
    }
  } catch (e) {
    log(`request failed: ${e?.stack ?? e}`);
    response = new Response("Internal error\n", { status: 500 });
  }
  await send(res, response);
}

async function send(res, response) {
  res.statusCode = response.status;
  response.headers.forEach((value, name) => res.setHeader(name, value));
  const out = Buffer.from(await response.arrayBuffer());
  res.end(out);
}

const tls = { cert: readFileSync(args.cert), key: readFileSync(args.key) };

function listen(host) {
  return new Promise((resolve, reject) => {
    const server = https.createServer(tls, (req, res) => {
      handle(req, res).catch((e) => {
        log(`unhandled: ${e?.stack ?? e}`);
        try {
          res.statusCode = 500;
          res.end();
        } catch {}
      });
    });
    server.once("error", reject);
    server.listen({ port, host }, () => resolve(server));
  });
}

// Listen on IPv4 loopback (required) and IPv6 loopback (if available), so `localhost`
// works whichever address the resolver returns first.
const servers = [await listen(args.host)];
if (args.host === "127.0.0.1") {
  try {
    servers.push(await listen("::1"));
  } catch (e) {
    log(`not listening on [::1]: ${e?.code ?? e}`);
  }
}

function shutdown() {
  for (const s of servers) s.close();
  process.exit(0);
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);

process.stdout.write(`READY ${port}\n`);

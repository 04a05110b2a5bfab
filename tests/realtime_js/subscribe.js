// stream-js (the `getstream` package and its Faye client) against `feedline dev`, as a Node app
// would use it: driven by tests/e2e/test_realtime_js.py, which passes the server in the environment.
// Prints one JSON line per check and exits non-zero on the first failure.
'use strict';

const stream = require('getstream');

const { API_URL, FAYE_URL, API_KEY, API_SECRET, APP_ID, UID, TRANSPORT } = process.env;
const options = { urlOverride: { api: `${API_URL}/api/` }, fayeUrl: FAYE_URL };
const WAIT_MS = 10000;

function report(check, extra) {
  process.stdout.write(`${JSON.stringify({ check, ...extra })}\n`);
}

// the next message a feed's subscription receives that satisfies `match`
function nextMessage(queue, match, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no realtime message for ${what} within ${WAIT_MS} ms`)), WAIT_MS);
    queue.waiters.push((msg) => {
      if (!match(msg)) return false;
      clearTimeout(timer);
      resolve({ msg, at: Date.now() });
      return true;
    });
  });
}

function listen() {
  const queue = { waiters: [], seen: [] };
  queue.callback = (msg) => {
    queue.seen.push(msg);
    queue.waiters = queue.waiters.filter((w) => !w(msg));
  };
  return queue;
}

async function subscribed(subscription) {
  await new Promise((resolve, reject) => subscription.then(resolve, reject));
}

async function main() {
  const server = stream.connect(API_KEY, API_SECRET, APP_ID, options);
  const alice = `alice${UID}`;
  const bob = `bob${UID}`;

  // a browser-like client: a user token, subscribing to its own feeds
  const userClient = stream.connect(API_KEY, server.createUserToken(alice), APP_ID, options);
  // TRANSPORT=long-polling: as a client whose WebSocket is blocked (faye falls back to HTTP)
  if (TRANSPORT === 'long-polling') userClient.getFayeClient().disable('websocket');

  // warm the server up first (a fresh dev server prepares its storage statements on first use)
  const warm = await server.feed('user', `warm${UID}`).addActivity({ actor: alice, verb: 'warm', object: 'o:0' });
  await server.feed('user', `warm${UID}`).removeActivity(warm.id);

  // 1. own feed: new activity within a second, then its deletion
  const own = listen();
  const userFeed = userClient.feed('user', alice);
  await subscribed(userFeed.subscribe(own.callback));
  report('subscribed', { feed: userFeed.id });

  const added = nextMessage(own, (m) => m.new && m.new.some((a) => a.foreign_id === `post:${UID}`), 'the new activity');
  const sentAt = Date.now();
  const activity = await server.feed('user', alice).addActivity({ actor: alice, verb: 'post', object: 'o:1', foreign_id: `post:${UID}` });
  const got = await added;
  const latency = got.at - sentAt;
  const pushed = got.msg.new.find((a) => a.id === activity.id);
  if (!pushed) throw new Error(`pushed ids ${JSON.stringify(got.msg.new.map((a) => a.id))} lack ${activity.id}`);
  if (got.msg.feed !== `user:${alice}` || got.msg.app_id !== APP_ID) throw new Error(`bad envelope ${JSON.stringify(got.msg)}`);
  if (latency > 1000) throw new Error(`new activity arrived after ${latency} ms`);
  report('new', { latency_ms: latency, id: pushed.id, verb: pushed.verb });

  const removed = nextMessage(own, (m) => m.deleted && m.deleted.includes(activity.id), 'the deletion');
  await server.feed('user', alice).removeActivity(activity.id);
  const del = (await removed).msg;
  const fids = del.deleted_foreign_ids.map((p) => p[0]);
  if (!fids.includes(`post:${UID}`)) throw new Error(`deleted_foreign_ids ${JSON.stringify(del.deleted_foreign_ids)}`);
  report('deleted', { id: activity.id, deleted_foreign_ids: del.deleted_foreign_ids });

  // 2. a bad signature is refused (a token signed with another secret)
  const forger = stream.connect(API_KEY, 'not-the-secret-0123456789-0123456789', APP_ID, options);
  const refusal = await new Promise((resolve) => {
    forger.feed('user', alice).subscribe(() => {}).then(() => resolve(null), (err) => resolve(err));
  });
  if (!refusal) throw new Error('a subscription with a bad signature was accepted');
  report('refused', { code: refusal.code, message: refusal.message });

  // 3. through a follow: timeline:alice follows user:bob; bob's post reaches alice's timeline
  await server.feed('timeline', alice).follow('user', bob);
  const tl = listen();
  await subscribed(userClient.feed('timeline', alice).subscribe(tl.callback));
  const viaFollow = nextMessage(tl, (m) => m.new && m.new.some((a) => a.foreign_id === `bobpost:${UID}`), 'the fanned-out activity');
  const sent2 = Date.now();
  const bobs = await server.feed('user', bob).addActivity({ actor: bob, verb: 'post', object: 'o:2', foreign_id: `bobpost:${UID}` });
  const fan = await viaFollow;
  const copy = fan.msg.new.find((a) => a.id === bobs.id);
  if (!copy || copy.origin !== `user:${bob}`) throw new Error(`fan-out message ${JSON.stringify(fan.msg)}`);
  if (fan.at - sent2 > 1000) throw new Error(`fanned-out activity arrived after ${fan.at - sent2} ms`);
  report('fanout_new', { latency_ms: fan.at - sent2, origin: copy.origin, feed: fan.msg.feed });

  const fanDel = nextMessage(tl, (m) => m.deleted && m.deleted.includes(bobs.id), 'the fanned-out deletion');
  await server.feed('user', bob).removeActivity(bobs.id);
  await fanDel;
  report('fanout_deleted', { id: bobs.id });

  // the transport the messages came over (faye handshakes over HTTP, then picks its transport)
  report('transport', { type: userClient.getFayeClient()._dispatcher.connectionType });
  userClient.getFayeClient().disconnect();
  report('done', {});
}

main().then(() => process.exit(0), (err) => {
  report('failed', { error: String(err && err.stack ? err.stack : err) });
  process.exit(1);
});

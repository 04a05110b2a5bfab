// The demo page (examples/web) in headless Chromium, driven with puppeteer-core: Stream's React UI kit
// against feedline dev. Run by tests/browser/test_demo.py, which starts the demo (examples/web/run.py)
// and passes in the environment: CHROME (the executable), WORLD (run.py's JSON line: URLs and the
// seeded world), SHOTS (the screenshot folder).
// Prints one JSON line per check ({"check": ..., "ok": true, ...}); on the first failure prints
// {"check": "failed", ...} with the failed requests (URL, status, response body) and exits 1.
'use strict';

const fs = require('fs');
const path = require('path');
const puppeteer = require('puppeteer-core');

const world = JSON.parse(process.env.WORLD);
const SHOTS = process.env.SHOTS;
const WAIT_MS = 15000;
const ME = 'alice';

const problems = { console: [], pageErrors: [], failedRequests: [] };
// the page's WebSockets (Faye's transport), from the DevTools protocol: url, handshake status, frames
const sockets = new Map();
const apiCalls = [];

function report(check, extra) {
  process.stdout.write(`${JSON.stringify({ check, ok: true, ...extra })}\n`);
}

function fail(message) {
  throw new Error(message);
}

async function shot(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  const file = path.join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

// the activity cards on the page: id (from our footer wrapper), actor name, text, like label, comments
async function cards(page) {
  return page.$$eval('.raf-activity', (nodes) => nodes.map((node) => {
    const footer = node.querySelector('.demo-activity-footer');
    const labels = [...node.querySelectorAll('.raf-reaction-icon__label')].map((n) => n.textContent.trim());
    return {
      id: footer ? footer.getAttribute('data-activity-id') : null,
      name: (node.querySelector('.raf-user-bar__username') || {}).textContent || null,
      text: (node.querySelector('.raf-activity__content') || node).textContent,
      likes: labels.find((l) => /\blikes?$/.test(l)) || null,
      comments: [...node.querySelectorAll('.raf-comment-item')].map((c) => ({
        author: (c.querySelector('.raf-comment-item__author') || {}).textContent || null,
        text: c.textContent,
      })),
    };
  }));
}

async function waitFor(page, what, predicate) {
  const deadline = Date.now() + WAIT_MS;
  let last;
  while (Date.now() < deadline) {
    last = await cards(page);
    const found = predicate(last);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  fail(`${what}: not on the page within ${WAIT_MS} ms; the cards were ${JSON.stringify(last)}`);
}

const card = (id) => (cs) => cs.find((c) => c.id === id);

async function token(user) {
  const reply = await fetch(`${world.web}/token?user=${user}`);
  if (!reply.ok) fail(`GET /token?user=${user}: ${reply.status} ${await reply.text()}`);
  return (await reply.json()).token;
}

// our own calls to the API (as another user's app would make them): user tokens from the demo server
// (``auth``: a token fetched beforehand, so a timed call is the API call alone)
async function api(method, user, route, body, auth) {
  const url = `${world.api}/api/v1.0/${route}${route.includes('?') ? '&' : '?'}api_key=${world.api_key}`;
  const reply = await fetch(url, {
    method,
    headers: { Authorization: auth || await token(user), 'stream-auth-type': 'jwt', 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await reply.text();
  if (!reply.ok) fail(`${method} ${url}: ${reply.status} ${text}`);
  return JSON.parse(text);
}

// when the kit confirmed its Faye subscription to the timeline (it logs it), per page load
let subscribedAt = null;

async function reload(page) {
  subscribedAt = null;
  await page.reload({ waitUntil: 'load' });
}

function watch(page) {
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.console.push({ text: msg.text(), location: msg.location() });
  });
  page.on('pageerror', (err) => problems.pageErrors.push(String(err && err.stack ? err.stack : err)));
  page.on('requestfailed', (req) => {
    problems.failedRequests.push({ method: req.method(), url: req.url(), error: (req.failure() || {}).errorText });
  });
  page.on('response', async (res) => {
    const req = res.request();
    if (req.url().startsWith(world.api)) apiCalls.push(`${req.method()} ${new URL(req.url()).pathname} ${res.status()}`);
    if (res.status() >= 400) {
      let body = '';
      try { body = await res.text(); } catch (err) { body = `(body unavailable: ${err})`; }
      problems.failedRequests.push({ method: req.method(), url: req.url(), status: res.status(), body });
    }
  });
}

async function watchSockets(page) {
  const cdp = await page.target().createCDPSession();
  await cdp.send('Network.enable');
  cdp.on('Network.webSocketCreated', (e) => sockets.set(e.requestId, { url: e.url, status: null, frames: [], closed: false }));
  cdp.on('Network.webSocketHandshakeResponseReceived', (e) => {
    if (sockets.has(e.requestId)) sockets.get(e.requestId).status = e.response.status;
  });
  cdp.on('Network.webSocketFrameReceived', (e) => {
    if (sockets.has(e.requestId)) sockets.get(e.requestId).frames.push({ at: Date.now(), data: e.response.payloadData });
  });
  cdp.on('Network.webSocketFrameError', (e) => {
    problems.failedRequests.push({ method: 'WEBSOCKET', url: (sockets.get(e.requestId) || {}).url, error: e.errorMessage });
  });
  cdp.on('Network.webSocketClosed', (e) => { if (sockets.has(e.requestId)) sockets.get(e.requestId).closed = true; });
}

function noProblems(step) {
  const { console: errs, pageErrors, failedRequests } = problems;
  if (errs.length || pageErrors.length || failedRequests.length) {
    fail(`after "${step}": ${failedRequests.length} failed requests, ${errs.length} console errors, `
      + `${pageErrors.length} page errors`);
  }
}

async function main() {
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROME,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--window-size=1100,900'],
    defaultViewport: { width: 1100, height: 900 },
  });
  try {
    const page = await browser.newPage();
    watch(page);
    await watchSockets(page);
    page.on('console', (msg) => {
      if (msg.text().includes(`listening to changes in realtime for timeline:${ME}`)) subscribedAt = Date.now();
    });

    // 1. the timeline: the seeded posts of the people alice follows (and her own), with names
    const expected = world.posts.filter((p) => ['alice', 'bob', 'carol'].includes(p.author));
    const hidden = world.posts.filter((p) => !['alice', 'bob', 'carol'].includes(p.author));
    const PAGE = 4; // examples/web/src/main.jsx reads the timeline 4 at a time
    const newestFirst = [...expected].reverse();
    await page.goto(world.page, { waitUntil: 'load' });
    const page1 = await waitFor(page, 'the first timeline page', (cs) => (cs.length >= PAGE ? cs : null));
    if (page1.length !== PAGE) fail(`the first page has ${page1.length} activities, expected ${PAGE}`);
    // "Load more": the kit follows the page's `next` link (id_lt ...) for the rest
    await page.evaluate(() => {
      // the feed's own button (each comment list has one too)
      const feedButton = [...document.querySelectorAll('.raf-load-more-button button')].find((b) => !b.closest('.raf-activity'));
      if (feedButton) feedButton.click();
    });
    const first = await waitFor(page, 'the seeded timeline after "Load more"', (cs) => (cs.length >= expected.length ? cs : null));
    for (const post of expected) {
      const c = first.find((x) => x.id === post.id);
      if (!c) fail(`post ${post.id} (${post.text}) is not on the timeline: ${JSON.stringify(first)}`);
      if (c.name !== post.name) fail(`post ${post.id}: actor name ${JSON.stringify(c.name)}, expected ${post.name}`);
      if (!c.text.includes(post.text)) fail(`post ${post.id}: text ${JSON.stringify(c.text)}`);
    }
    for (const post of hidden) if (first.some((x) => x.id === post.id)) fail(`unfollowed ${post.author}'s post shown`);
    const order = first.map((c) => c.id);
    if (JSON.stringify(order) !== JSON.stringify(newestFirst.map((p) => p.id))) {
      fail(`timeline order ${JSON.stringify(order)}, expected newest first ${JSON.stringify(newestFirst.map((p) => p.id))}`);
    }
    // the seeded reactions: like counts and the latest comments with their authors' names
    for (const post of expected) {
      const c = first.find((x) => x.id === post.id);
      const likes = (post.reactions || []).filter((r) => r.kind === 'like').length;
      if (c.likes !== `${likes} ${likes === 1 ? 'like' : 'likes'}`) fail(`post ${post.id}: like label ${c.likes}, expected ${likes}`);
      // the latest comments, newest first: the kit shows the enriched read's latest 5
      const latest = (post.reactions || []).filter((x) => x.kind === 'comment').reverse().slice(0, 5);
      const shownComments = c.comments.map((m) => [m.author, m.text]);
      if (c.comments.length !== latest.length
        || latest.some((r, i) => c.comments[i].author !== world.users[r.user] || !c.comments[i].text.includes(r.text))) {
        fail(`post ${post.id}: comments ${JSON.stringify(shownComments)}, expected ${JSON.stringify(latest)}`);
      }
    }
    noProblems('timeline');
    report('timeline', { activities: first.length, names: [...new Set(first.map((c) => c.name))].sort(),
      screenshot: await shot(page, '01-timeline') });

    // 1b. a long comment thread: the kit shows 5; its "Load more" follows latest_reactions_extra's next link
    const thread = expected.find((p) => (p.reactions || []).filter((r) => r.kind === 'comment').length > 5);
    if (!thread) fail('the seed has no thread longer than 5 comments');
    const all = thread.reactions.filter((r) => r.kind === 'comment').reverse();
    const moreComments = await page.$(`.demo-activity-footer[data-activity-id="${thread.id}"] .raf-load-more-button button`);
    if (!moreComments) fail(`thread ${thread.id}: the comment list shows no "Load more"`);
    await moreComments.evaluate((b) => b.click());
    const full = await waitFor(page, 'the whole comment thread', (cs) => {
      const c = card(thread.id)(cs);
      return c && c.comments.length >= all.length ? c : null;
    });
    const got = full.comments.map((m) => [m.author, m.text]);
    if (full.comments.length !== all.length
      || all.some((r, i) => full.comments[i].author !== world.users[r.user] || !full.comments[i].text.includes(r.text))) {
      fail(`thread ${thread.id}: ${JSON.stringify(got)}, expected newest first ${JSON.stringify(all)}`);
    }
    noProblems('thread');
    report('thread', { activity: thread.id, comments: full.comments.length });

    // 2. the bell: the unseen count of notification:alice, as the API reports it
    const notif = await api('GET', ME, `feed/notification/${ME}/?limit=1`);
    if (!(notif.unseen > 0)) fail(`notification:${ME} has unseen=${notif.unseen}: the seed wrote notifications`);
    const badgeText = async () => page.$eval('[data-testid="unseen-count"]', (n) => n.textContent.trim()).catch(() => null);
    let badge = null;
    for (const end = Date.now() + WAIT_MS; Date.now() < end && badge !== String(notif.unseen);) {
      badge = await badgeText();
      await new Promise((r) => setTimeout(r, 100));
    }
    if (badge !== String(notif.unseen)) fail(`the bell shows ${badge}, the API says unseen=${notif.unseen}`);
    report('bell', { unseen: notif.unseen, badge });

    // 3. like a post alice has not liked: the count goes up, and stays up after a reload
    const target = newestFirst.slice(0, PAGE).find((p) => !(p.reactions || []).some((r) => r.kind === 'like'));
    if (!target) fail('the seed has no post without likes on the first page');
    const before = (await cards(page)).find((c) => c.id === target.id).likes;
    const liked = page.waitForResponse((r) => r.url().startsWith(`${world.api}/api/v1.0/reaction/`)
      && r.request().method() === 'POST', { timeout: WAIT_MS });
    await page.evaluate((id) => {
      const footer = document.querySelector(`.demo-activity-footer[data-activity-id="${id}"]`);
      const like = [...footer.querySelectorAll('.raf-reaction-icon')]
        .find((n) => /\blikes?$/.test(n.querySelector('.raf-reaction-icon__label').textContent.trim()));
      like.click();
    }, target.id);
    const likeReply = await liked;
    if (likeReply.status() !== 201 && likeReply.status() !== 200) fail(`the like's POST answered ${likeReply.status()}`);
    await waitFor(page, 'the like count 1 (before reload)', (cs) => (card(target.id)(cs) || {}).likes === '1 like');
    await reload(page);
    await waitFor(page, 'the like count 1 after a reload', (cs) => (card(target.id)(cs) || {}).likes === '1 like');
    noProblems('like');
    report('like', { activity: target.id, before, after: '1 like', status: likeReply.status(),
      screenshot: await shot(page, '02-liked') });

    // 3b. unlike a post alice liked in the seed: DELETE /reaction/{id}/ (a cross-origin DELETE)
    const unliked = newestFirst.slice(0, PAGE).find((p) => (p.reactions || []).some((r) => r.kind === 'like' && r.user === ME));
    if (!unliked) fail('the seed has no post alice liked on the first page');
    const likesBefore = unliked.reactions.filter((r) => r.kind === 'like').length;
    const expectLabel = (n) => `${n} ${n === 1 ? 'like' : 'likes'}`;
    const deleted = page.waitForResponse((r) => r.url().startsWith(`${world.api}/api/v1.0/reaction/`)
      && r.request().method() === 'DELETE', { timeout: WAIT_MS });
    await page.evaluate((id) => {
      const footer = document.querySelector(`.demo-activity-footer[data-activity-id="${id}"]`);
      [...footer.querySelectorAll('.raf-reaction-icon')]
        .find((n) => /\blikes?$/.test(n.querySelector('.raf-reaction-icon__label').textContent.trim())).click();
    }, unliked.id);
    const unlikeReply = await deleted;
    await waitFor(page, 'the lower like count (before reload)', (cs) => (card(unliked.id)(cs) || {}).likes === expectLabel(likesBefore - 1));
    await reload(page);
    await waitFor(page, 'the lower like count after a reload', (cs) => (card(unliked.id)(cs) || {}).likes === expectLabel(likesBefore - 1));
    noProblems('unlike');
    report('unlike', { activity: unliked.id, status: unlikeReply.status(), before: expectLabel(likesBefore),
      after: expectLabel(likesBefore - 1) });

    // 4. a comment: typed into the kit's comment field, posted, still there after a reload
    const comment = `Browser test comment ${Date.now()}`;
    const field = `.demo-activity-footer[data-activity-id="${target.id}"] .raf-comment-field`;
    await page.click(`${field} textarea`);
    await page.type(`${field} textarea`, comment);
    const commented = page.waitForResponse((r) => r.url().startsWith(`${world.api}/api/v1.0/reaction/`)
      && r.request().method() === 'POST', { timeout: WAIT_MS });
    await page.click(`${field} button[type="submit"]`);
    const commentReply = await commented;
    const hasComment = (cs) => ((card(target.id)(cs) || { comments: [] }).comments
      .some((m) => m.text.includes(comment) && m.author === world.users[ME]));
    await waitFor(page, 'the new comment (before reload)', hasComment);
    await reload(page);
    await waitFor(page, 'the new comment after a reload', hasComment);
    noProblems('comment');
    report('comment', { activity: target.id, status: commentReply.status(), screenshot: await shot(page, '03-commented') });

    // 5. the post box: alice's post goes to user:alice, reaches her timeline (pushed), stays after a reload
    const mine = `Posted from the browser test ${Date.now()}`;
    await page.click('.demo-post-box textarea');
    await page.type('.demo-post-box textarea', mine);
    const posted = page.waitForResponse((r) => r.url().startsWith(`${world.api}/api/v1.0/feed/user/${ME}/`)
      && r.request().method() === 'POST', { timeout: WAIT_MS });
    await page.click('.demo-post-box button[type="submit"]');
    const postReply = await posted;
    const postedActivity = await postReply.json();
    if (postedActivity.actor !== `SU:${ME}`) fail(`the post box wrote actor ${JSON.stringify(postedActivity.actor)}`);
    const mineShown = (cs) => cs.find((c) => c.id === postedActivity.id && c.text.includes(mine) && c.name === world.users[ME]);
    await waitFor(page, 'the posted status (before reload)', mineShown);
    await reload(page);
    await waitFor(page, 'the posted status after a reload', mineShown);
    noProblems('post');
    report('post', { activity: postedActivity.id, status: postReply.status() });

    // 6. live: bob (followed) posts through the API; the page shows it without a reload (Faye push)
    for (const end = Date.now() + WAIT_MS; Date.now() < end && subscribedAt === null;) {
      await new Promise((r) => setTimeout(r, 100));
    }
    if (subscribedAt === null) fail(`the kit never confirmed its Faye subscription to timeline:${ME}`);
    await page.evaluate(() => { window.__noReload = true; });
    const text = `Live from the crag ${Date.now()}`;
    const bobToken = await token('bob');
    const sent = Date.now();
    const added = await api('POST', 'bob', 'feed/user/bob/', {
      actor: 'SU:bob', verb: 'post', object: `live:${sent}`, text, foreign_id: `live:${sent}`,
    }, bobToken);
    // when the card is in the DOM (the page watches for it), and when Faye's frame carrying it arrived
    const shown = await page.waitForFunction((id) => {
      const el = document.querySelector(`.demo-activity-footer[data-activity-id="${id}"]`);
      return el ? Date.now() : false;
    }, { polling: 'mutation', timeout: WAIT_MS }, added.id).then((h) => h.jsonValue());
    const live = await waitFor(page, 'the pushed activity (no reload)', card(added.id));
    const latency = shown - sent;
    const faye = [...sockets.values()].filter((ws) => ws.url.startsWith(world.faye.replace(/^http/, 'ws')) && !ws.closed);
    if (!faye.length) fail(`no open Faye WebSocket to ${world.faye}: ${JSON.stringify([...sockets.values()].map((w) => [w.url, w.status, w.closed]))}`);
    const frame = faye.flatMap((ws) => ws.frames).find((f) => f.data.includes(added.id));
    if (!frame) fail(`the new activity ${added.id} did not arrive over the Faye WebSocket`);
    const pushMs = frame.at - sent;
    if (!(await page.evaluate(() => window.__noReload === true))) fail('the page reloaded: the activity was not pushed');
    if (live.name !== world.users.bob || !live.text.includes(text)) fail(`pushed card ${JSON.stringify(live)}`);
    const liveShot = await shot(page, '04-live');
    await reload(page);
    await waitFor(page, 'the pushed activity after a reload', card(added.id));
    noProblems('live');
    report('live', { activity: added.id, push_ms: pushMs, shown_ms: latency, websocket: faye[0].url,
      handshake: faye[0].status, screenshot: liveShot });

    // 7. the bell opens the notifications; the page marks them seen (the badge goes away)
    await page.click('.raf-notification-dropdown .raf-icon-badge');
    await page.waitForSelector('.raf-notification-dropdown__panel--open .raf-notification', { timeout: WAIT_MS });
    const notes = await page.$$eval('.raf-notification-dropdown__panel--open .raf-notification',
      (ns) => ns.map((n) => n.textContent.trim()));
    // the liked / commented post shown under a notification names its author (an SA: reference's actor)
    const attached = await page.$$eval('.raf-notification-dropdown__panel--open .raf-attached-activity__author',
      (ns) => ns.map((n) => n.textContent.trim()));
    if (!attached.length || attached.some((a) => a !== world.users[ME])) {
      fail(`the notifications' attached posts name ${JSON.stringify(attached)}, expected ${world.users[ME]}`);
    }
    const dropdownShot = await shot(page, '05-notifications');
    const seen = await (async () => {
      for (const end = Date.now() + WAIT_MS; Date.now() < end;) {
        const after = await api('GET', ME, `feed/notification/${ME}/?limit=1`);
        if (after.unseen === 0) return after;
        await new Promise((r) => setTimeout(r, 200));
      }
      return null;
    })();
    if (!seen) fail('opening the dropdown did not mark the notifications seen');
    await reload(page);
    await waitFor(page, 'the timeline after marking seen', (cs) => cs.length > 0);
    if (await badgeText() !== null) fail(`the bell still shows ${await badgeText()} after the notifications were seen`);
    noProblems('notifications');
    report('notifications', { groups: notes.length, texts: notes, attached, screenshot: dropdownShot });
    report('done', { api_calls: apiCalls.length });
  } finally {
    await browser.close();
  }
}

main().then(() => process.exit(0), (err) => {
  process.stdout.write(`${JSON.stringify({ check: 'failed', error: String(err && err.stack ? err.stack : err),
    ...problems, recent_api_calls: apiCalls.slice(-20) })}\n`);
  process.exit(1);
});

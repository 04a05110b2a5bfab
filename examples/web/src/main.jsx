// Feedline's demo: Stream's own React UI kit (react-activity-feed on the `getstream` client), unchanged,
// against a Feedline stack. The page knows only the API and Faye URLs and the app's key and id (from the
// demo server's /config.json); it gets a user token from /token (the secret stays on the server).
import React, { useEffect, useState } from 'react';
import ReactDOM from 'react-dom';
import {
  Activity,
  ActivityFooter,
  CommentField,
  CommentList,
  FlatFeed,
  NotificationDropdown,
  StatusUpdateForm,
  StreamApp,
  useFeedContext,
} from 'react-activity-feed';
import 'react-activity-feed/dist/index.css';
import './app.css';

// The kit shows pushed activities as a "You have 1 new activity" button; the demo loads them at once,
// so a followed user's post appears in the timeline while you look at it (pushed over Faye).
function LiveNotifier({ adds, onClick }) {
  const count = adds ? adds.length : 0;
  useEffect(() => {
    if (count > 0) onClick();
  }, [count]);
  return null;
}

function TimelineActivity({ activity, feedGroup, userId }) {
  return (
    <Activity
      activity={activity}
      feedGroup={feedGroup}
      userId={userId}
      Footer={() => (
        <div className="demo-activity-footer" data-activity-id={activity.id}>
          <ActivityFooter activity={activity} feedGroup={feedGroup} userId={userId} />
          <CommentField activity={activity} />
          <CommentList activityId={activity.id} />
        </div>
      )}
    />
  );
}

// The kit's NotificationDropdown reads the notification feed with mark_seen=true as soon as the page loads
// (the marks apply after the read, so the response still counts them, but the kit then zeroes its badge):
// its bell would show only what arrives while the page is open. The demo reads without marking and marks
// the notifications seen when the dropdown is opened, by this header of the open panel.
const NOTIFICATION_OPTIONS = { mark_seen: false };
const SHARED_FEEDS = [{ feedGroup: 'notification', notify: true, options: NOTIFICATION_OPTIONS }];

function MarkSeenOnOpen() {
  const feed = useFeedContext();
  useEffect(() => {
    feed.refresh({ mark_seen: true });
  }, []);
  return <div className="demo-notifications-title">Notifications</div>;
}

// the options of every timeline read: reaction counts, the caller's own reactions, the latest comments;
// a short page, so "Load more" (the kit follows the `next` link) has something to do
const TIMELINE_OPTIONS = { limit: 4, withOwnReactions: true, withReactionCounts: true, withRecentReactions: true };

function App({ config, user, token }) {
  const options = { urlOverride: { api: `${config.apiUrl}/api/` }, fayeUrl: config.fayeUrl };
  return (
    <StreamApp apiKey={config.apiKey} appId={config.appId} token={token} options={options}
      sharedFeeds={SHARED_FEEDS}>
      <header className="demo-header">
        <div className="demo-brand">
          Feedline demo <span className="demo-user">signed in as {user}</span>
        </div>
        <NotificationDropdown notify right options={NOTIFICATION_OPTIONS} Header={MarkSeenOnOpen} />
      </header>
      <main className="demo-main">
        <div className="demo-post-box">
          <StatusUpdateForm feedGroup="user" />
        </div>
        <FlatFeed feedGroup="timeline" notify options={TIMELINE_OPTIONS} Notifier={LiveNotifier}
          Activity={TimelineActivity} />
      </main>
    </StreamApp>
  );
}

async function main() {
  const root = document.getElementById('root');
  const user = new URLSearchParams(window.location.search).get('user') || 'alice';
  try {
    const config = await (await fetch('/config.json')).json();
    const reply = await fetch(`/token?user=${encodeURIComponent(user)}`);
    if (!reply.ok) throw new Error(`GET /token: ${reply.status} ${await reply.text()}`);
    const { token } = await reply.json();
    ReactDOM.render(<App config={config} user={user} token={token} />, root);
  } catch (err) {
    root.textContent = `The demo could not start: ${err}`;
    console.error(err);
  }
}

main();

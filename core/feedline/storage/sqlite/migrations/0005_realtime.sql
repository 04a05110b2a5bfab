-- Realtime (AWS path, and its tests): WebSocket connections and their channel subscriptions.
-- `expires` is a Unix time in seconds: rows past it are ignored by reads and deleted by later writes.
CREATE TABLE IF NOT EXISTS realtime_connections (
    connection_id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    expires INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS realtime_subscriptions (
    channel TEXT NOT NULL,
    connection_id TEXT NOT NULL,
    expires INTEGER NOT NULL,
    PRIMARY KEY (channel, connection_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS realtime_subscriptions_by_connection ON realtime_subscriptions (connection_id);

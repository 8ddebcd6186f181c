/**
 * LISTEN/NOTIFY channel on which writers wake every instance's change feed after a commit. The
 * payload is empty: notifications are coalesced (notifyAfterCommit), and the feed learns what
 * changed from the change log itself.
 */
export const CHANGE_CHANNEL = 'config_server_changed';

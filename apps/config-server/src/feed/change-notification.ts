/**
 * LISTEN/NOTIFY channel on which writers wake every instance's change feed after a commit. The
 * payload is empty: wake-ups are coalesced (platform wakeUp), and the feed learns what
 * changed from the change log itself.
 */
export const CHANGE_CHANNEL = 'config_server_changed';

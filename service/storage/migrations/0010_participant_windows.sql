-- Per-participant windows and server-side moderation (issue 28).
--
-- participants.valid_from / valid_until: the identity's own window inside the room's
-- (NULL: the room's bound). `window_end_announced` is set when the lifecycle appended
-- the identity's PARTICIPANT_WINDOW_ENDED event (the media servers eject it on its
-- delivery); a change of the window clears it, so a window moved later ends again.
ALTER TABLE participants
    ADD COLUMN valid_from timestamptz,
    ADD COLUMN valid_until timestamptz,
    ADD COLUMN window_end_announced boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT participants_window_check
        CHECK (valid_from IS NULL OR valid_until IS NULL OR valid_from < valid_until);

-- The lifecycle finds the windows due to end without scanning every roster.
CREATE INDEX participants_window_end_idx ON participants (valid_until)
    WHERE valid_until IS NOT NULL AND NOT window_end_announced;

-- The event vocabulary: the window and moderation events.
ALTER TABLE room_events DROP CONSTRAINT room_events_type_check;
ALTER TABLE room_events ADD CONSTRAINT room_events_type_check CHECK (type IN (
    'created', 'settings_changed', 'participant_added', 'role_changed',
    'participant_removed', 'deleted', 'opened', 'ended',
    'participant_banned', 'participant_unbanned',
    'participant_knocked', 'participant_admitted', 'participant_denied',
    'seat_taken', 'seat_released', 'seat_expired', 'admission_revoked',
    'participant_window_changed', 'participant_window_ended', 'participant_moderated'));

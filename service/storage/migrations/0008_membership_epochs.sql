-- The membership epoch and Janus admissions (issue 18).
--
-- membership_epochs: one row per (room, identity) whose membership epoch moved or that
-- was issued a Janus credential. `epoch` starts at 0 (no row) and is bumped, in the
-- writer's transaction, by a removal, a ban, a denial and a role change that takes
-- the right to publish away; the Janus join token is derived from it, so a token
-- handed out before the bump never works again. `admit_time` is set when
-- AuthorizeJoin issued a Janus credential at the current epoch (cleared by a bump):
-- the delivery's reconcile keeps such identities (admitted by an open join policy or
-- the waiting room, not on the roster) in the VideoRoom's allowed list. The row
-- survives a removal (like participant_removals), so a re-added identity gets a new
-- token.
CREATE TABLE membership_epochs (
    tenant     text        COLLATE "C" NOT NULL,
    room_id    text        COLLATE "C" NOT NULL,
    user_id    text        COLLATE "C" NOT NULL,
    epoch      bigint      NOT NULL DEFAULT 0,
    admit_time timestamptz,
    CONSTRAINT membership_epochs_pkey PRIMARY KEY (tenant, room_id, user_id),
    CONSTRAINT membership_epochs_epoch_check CHECK (epoch >= 0),
    CONSTRAINT membership_epochs_room_fkey FOREIGN KEY (tenant, room_id)
        REFERENCES rooms (tenant, room_id) ON DELETE CASCADE
);

-- The Janus sink joins the delivery destinations.
ALTER TABLE delivery_destinations DROP CONSTRAINT delivery_destinations_sink_check;
ALTER TABLE delivery_destinations ADD CONSTRAINT delivery_destinations_sink_check
    CHECK (sink IN ('webhook', 'livekit', 'janus'));

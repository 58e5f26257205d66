-- ==== coalesced primary-key reads (reads.py): one row, and many at once ====

-- name: room_one --
SELECT * FROM rooms
    WHERE tenant = $1 AND room_id = $2 AND delete_time IS NULL;

-- name: room_many --
SELECT * FROM rooms
    WHERE tenant = $1 AND room_id = ANY($2::text[]) AND delete_time IS NULL;

-- name: join_one --
SELECT r.*, p.user_id AS p_user_id, p.role AS p_role,
           p.create_time AS p_create_time, p.update_time AS p_update_time,
           p.valid_from AS p_valid_from, p.valid_until AS p_valid_until,
           x.version AS x_version, x.banned AS x_banned, m.epoch AS m_epoch,
           -- include: knock_columns --
    FROM rooms r
    LEFT JOIN participants p
           ON p.tenant = r.tenant AND p.room_id = r.room_id AND p.user_id = $3
    LEFT JOIN knocks k
           ON k.tenant = r.tenant AND k.room_id = r.room_id AND k.user_id = $3
    LEFT JOIN participant_removals x
           ON x.tenant = r.tenant AND x.room_id = r.room_id AND x.user_id = $3
    LEFT JOIN membership_epochs m
           ON m.tenant = r.tenant AND m.room_id = r.room_id AND m.user_id = $3
    WHERE r.tenant = $1 AND r.room_id = $2 AND r.delete_time IS NULL;

-- name: join_many --
SELECT r.*, p.user_id AS p_user_id, p.role AS p_role,
           p.create_time AS p_create_time, p.update_time AS p_update_time,
           p.valid_from AS p_valid_from, p.valid_until AS p_valid_until,
           x.version AS x_version, x.banned AS x_banned, m.epoch AS m_epoch, q.user_id AS q_user_id,
           -- include: knock_columns --
    FROM unnest($2::text[], $3::text[]) AS q(room_id, user_id)
    JOIN rooms r ON r.tenant = $1 AND r.room_id = q.room_id AND r.delete_time IS NULL
    LEFT JOIN participants p
           ON p.tenant = r.tenant AND p.room_id = r.room_id AND p.user_id = q.user_id
    LEFT JOIN knocks k
           ON k.tenant = r.tenant AND k.room_id = r.room_id AND k.user_id = q.user_id
    LEFT JOIN participant_removals x
           ON x.tenant = r.tenant AND x.room_id = r.room_id AND x.user_id = q.user_id
    LEFT JOIN membership_epochs m
           ON m.tenant = r.tenant AND m.room_id = r.room_id AND m.user_id = q.user_id;

-- ==== the Lists of rooms and memberships: one static statement per page position ====
-- $2..$5 filter by state: the window bounds of the domain (models.state_bounds: starts
-- after, starts by, ends after, ends by; NULL: no bound), so the rule stays there. A
-- recurring room is judged by the occurrence its lifecycle tracks (occurrence_from /
-- occurrence_until; NULL: its first, valid_from / valid_until).

-- name: list_rooms --
SELECT r.* FROM rooms r
    WHERE r.tenant = $1 AND r.delete_time IS NULL
      AND ($2::timestamptz IS NULL OR COALESCE(r.occurrence_from, r.valid_from) > $2)
      AND ($3::timestamptz IS NULL OR COALESCE(r.occurrence_from, r.valid_from) <= $3)
      AND ($4::timestamptz IS NULL OR COALESCE(r.occurrence_until, r.valid_until) > $4)
      AND ($5::timestamptz IS NULL OR COALESCE(r.occurrence_until, r.valid_until) <= $5)
    ORDER BY r.create_time DESC, r.room_id DESC LIMIT $6;

-- name: list_rooms_after --
SELECT r.* FROM rooms r
    WHERE r.tenant = $1 AND r.delete_time IS NULL AND (r.create_time, r.room_id) < ($7, $8)
      AND ($2::timestamptz IS NULL OR COALESCE(r.occurrence_from, r.valid_from) > $2)
      AND ($3::timestamptz IS NULL OR COALESCE(r.occurrence_from, r.valid_from) <= $3)
      AND ($4::timestamptz IS NULL OR COALESCE(r.occurrence_until, r.valid_until) > $4)
      AND ($5::timestamptz IS NULL OR COALESCE(r.occurrence_until, r.valid_until) <= $5)
    ORDER BY r.create_time DESC, r.room_id DESC LIMIT $6;

-- name: list_memberships --
SELECT r.*, p.role AS p_role, p.create_time AS p_create_time
    FROM participants p
    JOIN rooms r ON r.tenant = p.tenant AND r.room_id = p.room_id
    WHERE p.tenant = $1 AND p.user_id = $6 AND r.delete_time IS NULL
      AND ($2::timestamptz IS NULL OR COALESCE(r.occurrence_from, r.valid_from) > $2)
      AND ($3::timestamptz IS NULL OR COALESCE(r.occurrence_from, r.valid_from) <= $3)
      AND ($4::timestamptz IS NULL OR COALESCE(r.occurrence_until, r.valid_until) > $4)
      AND ($5::timestamptz IS NULL OR COALESCE(r.occurrence_until, r.valid_until) <= $5)
    ORDER BY r.valid_from, r.room_id LIMIT $7;

-- name: list_memberships_after --
SELECT r.*, p.role AS p_role, p.create_time AS p_create_time
    FROM participants p
    JOIN rooms r ON r.tenant = p.tenant AND r.room_id = p.room_id
    WHERE p.tenant = $1 AND p.user_id = $6 AND r.delete_time IS NULL
      AND (r.valid_from, r.room_id) > ($8, $9)
      AND ($2::timestamptz IS NULL OR COALESCE(r.occurrence_from, r.valid_from) > $2)
      AND ($3::timestamptz IS NULL OR COALESCE(r.occurrence_from, r.valid_from) <= $3)
      AND ($4::timestamptz IS NULL OR COALESCE(r.occurrence_until, r.valid_until) > $4)
      AND ($5::timestamptz IS NULL OR COALESCE(r.occurrence_until, r.valid_until) <= $5)
    ORDER BY r.valid_from, r.room_id LIMIT $7;

-- ==== janus.py ====

-- name: room_facts --
WITH ids AS (
        SELECT user_id FROM participants WHERE tenant = $1 AND room_id = $2
        UNION
        SELECT user_id FROM membership_epochs
        WHERE tenant = $1 AND room_id = $2 AND admit_time IS NOT NULL)
    SELECT r.*, ids.user_id AS c_user_id, p.role AS p_role,
           p.valid_from AS p_valid_from, p.valid_until AS p_valid_until,
           COALESCE(m.epoch, 0) AS m_epoch, COALESCE(x.banned, false) AS x_banned,
           -- include: knock_columns --
    FROM rooms r
    LEFT JOIN ids ON true
    LEFT JOIN participants p
           ON p.tenant = $1 AND p.room_id = $2 AND p.user_id = ids.user_id
    LEFT JOIN membership_epochs m
           ON m.tenant = $1 AND m.room_id = $2 AND m.user_id = ids.user_id
    LEFT JOIN participant_removals x
           ON x.tenant = $1 AND x.room_id = $2 AND x.user_id = ids.user_id
    LEFT JOIN knocks k
           ON k.tenant = $1 AND k.room_id = $2 AND k.user_id = ids.user_id
    WHERE r.tenant = $1 AND r.room_id = $2 AND r.delete_time IS NULL
    ORDER BY ids.user_id;

-- name: joinable_rooms --
SELECT room_id FROM rooms
    WHERE tenant = $1 AND delete_time IS NULL
      AND COALESCE(series_until, valid_until) > $2
      AND valid_from - early_entry <= $2 AND room_id > $3
    ORDER BY room_id LIMIT $4;
